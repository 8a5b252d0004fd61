#!/usr/bin/env bash
# The project's test command (`npm test`): type check, format check, lint, then every vitest project (unit beside the
# code, integration against the real control plane). Ends with one "N passed, N failed, N skipped" line.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "== Debian packages (installed as root when missing, else the command to run is printed)"
bash scripts/system-packages.sh ensure all
echo "== node $(node --version)"
echo "== control plane binaries"
bash scripts/install-control-plane.sh
echo "== kube-apiserver v1.29.15 (old-apiserver.test.ts: an apiserver that drops ipMode)"
K8S_VERSION=v1.29.15 KUBE_COMMANDS=kube-apiserver bash scripts/install-control-plane.sh
echo "== moto"
bash scripts/install-moto.sh
echo "== helm"
bash scripts/install-helm.sh
echo "== promtool"
bash scripts/install-promtool.sh
echo "== metallb"
bash scripts/install-metallb.sh
echo "== typecheck"
tsc -p tsconfig.json --noEmit
echo "== format"
prettier --check . --log-level warn
echo "== lint"
eslint .
echo "== vitest"
report="$(mktemp -t lb-operator-vitest-XXXXXX.json)"
trap 'rm -f "$report"' EXIT
status=0
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" || true
exit "$status"
