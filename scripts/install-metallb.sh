#!/usr/bin/env bash
# Builds MetalLB's controller and speaker from the Go module proxy into a cache directory outside the repo, once,
# copies its CRDs from the same module's files beside them, and prints that directory as the last line. Reuses the
# cache afterwards while both binaries still run. The lab runs them instead of our controller and speakers to
# compare the two on the same work (issue 13).
#
# A wrapper module in the cache requires the release and builds both main packages from inside it (as
# install-control-plane.sh does for Kubernetes): one module graph for the two binaries, and `go list -m` then
# names the module's directory, whose config/crd/bases holds the CRDs of the same release.
# v0.16.2 is not buildable from the proxy: it requires github.com/metallb/frr-k8s v0.0.27, which the proxy
# refuses (403 "This module version is not available"). v0.16.1 (frr-k8s v0.0.25, served) is the newest release
# that builds; the proxy does not list it (`go list -m -versions` shows v0.15.2 and v0.16.2) but serves it.
# METALLB_VERSION=v0.15.2 builds too, and the lab (test/env/lab/metallb.ts) runs either.
#
# Env:
#   METALLB_ASSETS     a directory that already holds speaker, controller and crds/: used as is, nothing is built
#   LB_OPERATOR_CACHE  cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator)
#   METALLB_VERSION    version to build (default v0.16.1)
set -euo pipefail

METALLB_VERSION="${METALLB_VERSION:-v0.16.1}"
MODULE=go.universe.tf/metallb

log() { echo "install-metallb: $*" >&2; }

# A directory counts only if both binaries start and know `-lb-class` (Go's flag package prints the flags for
# `-h`), and the CRDs are there. An interrupted build leaves nothing: binaries are written under .tmp names and
# renamed last.
works() {
  local d="$1" b help
  for b in speaker controller; do
    [ -x "$d/$b" ] || return 1
    help="$("$d/$b" -h 2>&1 || true)"
    [[ "$help" == *"-lb-class"* ]] || return 1
  done
  compgen -G "$d/crds/*.yaml" >/dev/null
}

if [ -n "${METALLB_ASSETS:-}" ]; then
  if works "$METALLB_ASSETS"; then
    echo "$METALLB_ASSETS"
    exit 0
  fi
  log "METALLB_ASSETS=$METALLB_ASSETS does not hold runnable speaker and controller binaries and crds/*.yaml"
  exit 1
fi

cache="${LB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator}"
out="$cache/metallb-$METALLB_VERSION"
bin="$out/bin"
if works "$bin"; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { log "the Go toolchain is required to build MetalLB"; exit 1; }
log "building MetalLB $METALLB_VERSION speaker and controller into $bin (first run only; a few minutes)"
start=$(date +%s)
mkdir -p "$bin" "$out/wrapper"
cd "$out/wrapper"
rm -f go.mod go.sum tools.go
go mod init lb-operator.local/metallb-build >/dev/null 2>&1
echo "require $MODULE $METALLB_VERSION" >> go.mod
cat > tools.go <<GO
//go:build tools

package tools

import (
	_ "$MODULE/controller"
	_ "$MODULE/speaker"
)
GO
export GOFLAGS=-mod=mod CGO_ENABLED=0
go mod tidy >&2
for b in speaker controller; do
  started=$(date +%s)
  go build -trimpath -ldflags "-s -w" -o "$bin/$b.tmp" "$MODULE/$b" >&2
  mv "$bin/$b.tmp" "$bin/$b"
  log "built $b in $(( $(date +%s) - started )) s"
done

# The CRDs the release ships (config/crd/bases holds them without the conversion-webhook patch the kustomize
# overlays add, which suits a lab that runs the controller with webhooks disabled).
src="$(go list -m -f '{{.Dir}}' "$MODULE")"
rm -rf "$bin/crds" && mkdir -p "$bin/crds"
cp "$src"/config/crd/bases/*.yaml "$bin/crds/"
chmod u+w "$bin"/crds/*.yaml
log "MetalLB $METALLB_VERSION built in $(( $(date +%s) - start )) s"
works "$bin" || { log "built $bin but its binaries do not run or its CRDs are missing"; exit 1; }
echo "$bin"
