#!/usr/bin/env bash
# Builds the AWS cloud controller manager (k8s.io/cloud-provider-aws) from the Go module proxy into a cache
# directory outside the repo, once, and prints the binary's directory as the last line. Reuses the cache afterwards
# while the binary still runs. bench/aws-calls races it against our AWS provider on the same moto (issue 14).
#
# A wrapper module in the cache requires the release and builds its main package from inside it (as
# install-metallb.sh does for MetalLB). The release's go.mod has one replace directive,
# github.com/google/cel-go => github.com/cel-expr/cel-go v0.31.0, which the proxy refuses; it is left out, so the
# build takes github.com/google/cel-go at the version the module graph selects. Replace directives of a
# dependency do not apply to a module that requires it, so leaving it out is also what `go build` would do.
# The release has no replaces for k8s.io staging modules: it requires their published versions.
#
# Env:
#   AWS_CCM_ASSETS     a directory that already holds aws-cloud-controller-manager: used as is, nothing is built
#   LB_OPERATOR_CACHE  cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator)
#   AWS_CCM_VERSION    version to build (default v1.36.2)
set -euo pipefail

AWS_CCM_VERSION="${AWS_CCM_VERSION:-v1.36.2}"
MODULE=k8s.io/cloud-provider-aws
PKG="$MODULE/cmd/aws-cloud-controller-manager"
BIN=aws-cloud-controller-manager

log() { echo "install-aws-cloud-controller-manager: $*" >&2; }

# A directory counts only if the binary starts and knows --cloud-config (cobra prints the flags for --help). An
# interrupted build leaves nothing: the binary is written under a .tmp name and renamed last.
works() {
  local d="$1" help
  [ -x "$d/$BIN" ] || return 1
  help="$("$d/$BIN" --help 2>&1 || true)"
  [[ "$help" == *"--cloud-config"* ]]
}

if [ -n "${AWS_CCM_ASSETS:-}" ]; then
  if works "$AWS_CCM_ASSETS"; then
    echo "$AWS_CCM_ASSETS"
    exit 0
  fi
  log "AWS_CCM_ASSETS=$AWS_CCM_ASSETS does not hold a runnable $BIN"
  exit 1
fi

cache="${LB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator}"
out="$cache/aws-ccm-$AWS_CCM_VERSION"
bin="$out/bin"
if works "$bin"; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { log "the Go toolchain is required to build the AWS cloud controller manager"; exit 1; }
log "building $PKG $AWS_CCM_VERSION into $bin (first run only; a few minutes)"
start=$(date +%s)
mkdir -p "$bin" "$out/wrapper"
cd "$out/wrapper"
rm -f go.mod go.sum tools.go
go mod init lb-operator.local/aws-ccm-build >/dev/null 2>&1
echo "require $MODULE $AWS_CCM_VERSION" >> go.mod
cat > tools.go <<GO
//go:build tools

package tools

import _ "$PKG"
GO
export GOFLAGS=-mod=mod CGO_ENABLED=0
go mod tidy >&2
go build -trimpath -ldflags "-s -w" -o "$bin/$BIN.tmp" "$PKG" >&2
mv "$bin/$BIN.tmp" "$bin/$BIN"
log "$BIN $AWS_CCM_VERSION built in $(( $(date +%s) - start )) s"
works "$bin" || { log "built $bin but $BIN does not run"; exit 1; }
echo "$bin"
