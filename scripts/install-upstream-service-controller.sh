#!/usr/bin/env bash
# Builds bench/upstream-service-controller/main.go (the k8s.io/cloud-provider service controller over a fake cloud
# that hands out an address at once) from the Go module proxy into a cache directory outside the repo, once, and
# prints the directory holding the binary as the last line. Reuses the cache afterwards while the binary runs and
# was built from the main.go now in the repo. bench/reconcile.ts races it against our controller (issue 14).
#
# A wrapper module in the cache requires the release and builds the program from inside it (as install-metallb.sh
# does): k8s.io/cloud-provider v0.36.3 requires the published k8s.io/api, client-go, ... v0.36.3 modules, so no
# replace directives are needed (unlike k8s.io/kubernetes, see install-control-plane.sh).
#
# Env:
#   UPSTREAM_SERVICE_CONTROLLER_BIN  a directory that already holds upstream-service-controller: used as is
#   LB_OPERATOR_CACHE                cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator)
#   CLOUD_PROVIDER_VERSION           k8s.io/cloud-provider version to build against (default v0.36.3)
set -euo pipefail

CLOUD_PROVIDER_VERSION="${CLOUD_PROVIDER_VERSION:-v0.36.3}"
MODULE=k8s.io/cloud-provider
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_file="$here/../bench/upstream-service-controller/main.go"

log() { echo "install-upstream-service-controller: $*" >&2; }

# A directory counts only if the binary starts and knows --kube-api-qps (Go's flag package prints the flags for
# -h), and, when it is our cache, was built from the main.go in the repo (its sha256 is stored beside it). An
# interrupted build leaves nothing: the binary is written under a .tmp name and renamed last.
works() {
  local d="$1" help
  [ -x "$d/upstream-service-controller" ] || return 1
  help="$("$d/upstream-service-controller" -h 2>&1 || true)"
  [[ "$help" == *"-kube-api-qps"* ]]
}
fresh() {
  [ "$(cat "$1/main.go.sha256" 2>/dev/null)" = "$(sha256sum < "$source_file" | cut -d' ' -f1)" ]
}

if [ -n "${UPSTREAM_SERVICE_CONTROLLER_BIN:-}" ]; then
  if works "$UPSTREAM_SERVICE_CONTROLLER_BIN"; then
    echo "$UPSTREAM_SERVICE_CONTROLLER_BIN"
    exit 0
  fi
  log "UPSTREAM_SERVICE_CONTROLLER_BIN=$UPSTREAM_SERVICE_CONTROLLER_BIN does not hold a runnable upstream-service-controller"
  exit 1
fi

cache="${LB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator}"
out="$cache/upstream-service-controller-$CLOUD_PROVIDER_VERSION"
bin="$out/bin"
if works "$bin" && fresh "$bin"; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { log "the Go toolchain is required to build the upstream service controller"; exit 1; }
log "building the upstream service controller ($MODULE $CLOUD_PROVIDER_VERSION) into $bin (first run, or main.go changed; a few minutes)"
start=$(date +%s)
mkdir -p "$bin" "$out/wrapper"
cd "$out/wrapper"
rm -f go.mod go.sum main.go
go mod init lb-operator.local/upstream-service-controller >/dev/null 2>&1
echo "require $MODULE $CLOUD_PROVIDER_VERSION" >> go.mod
cp "$source_file" main.go
export GOFLAGS=-mod=mod CGO_ENABLED=0
go mod tidy >&2
go build -trimpath -ldflags "-s -w" -o "$bin/upstream-service-controller.tmp" . >&2
sha256sum < main.go | cut -d' ' -f1 > "$bin/main.go.sha256"
mv "$bin/upstream-service-controller.tmp" "$bin/upstream-service-controller"
log "upstream service controller built in $(( $(date +%s) - start )) s"
works "$bin" || { log "built $bin but its binary does not run"; exit 1; }
echo "$bin"
