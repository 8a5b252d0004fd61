#!/usr/bin/env bash
# Builds the helm CLI from the Go module proxy into a cache directory outside the repo, once, and prints the
# path of the binary as the last line. Reuses the cached binary afterwards while it still runs and reports
# the pinned version.
#
# helm.sh/helm/v3 has no replace directives, so a plain `go install module/cmd/helm@version` builds it.
# helm's Makefile stamps version data with -ldflags -X, which `go install` alone does not do; the same flags are
# passed here: the release version (else `helm version` says only "v3.22") and the Kubernetes version from its
# client-go (else `helm template` and `helm lint` assume Kubernetes v1.20.0 and refuse a chart's newer kubeVersion).
#
# Env:
#   HELM_BIN          path of an existing helm binary: used as is, nothing is built
#   LB_OPERATOR_CACHE cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator)
#   HELM_VERSION      version to build (default v3.22.0, the newest 3.x on the module proxy when pinned)
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"

log() { echo "install-helm: $*" >&2; }

if [ -n "${HELM_BIN:-}" ]; then
  if [ -x "$HELM_BIN" ]; then
    echo "$HELM_BIN"
    exit 0
  fi
  log "HELM_BIN=$HELM_BIN is not an executable file"
  exit 1
fi

cache="${LB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator}"
gobin="$cache/helm-$HELM_VERSION/bin"
bin="$gobin/helm"

# A cached binary counts only if it runs and is the pinned version (an interrupted build leaves nothing:
# go install writes the binary last).
works() {
  [ -x "$bin" ] && "$bin" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"
}

if works; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { log "the Go toolchain is required to build helm"; exit 1; }
log "building helm $HELM_VERSION into $gobin (first run only; a few minutes)"
mkdir -p "$gobin"
start=$(date +%s)
# As helm's Makefile does: client-go v0.N.x is Kubernetes 1.N.
gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
k8s_minor="$(sed -n 's#^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$gomod" | head -n1)"
[ -n "$k8s_minor" ] || { log "cannot find helm $HELM_VERSION's k8s.io/client-go version in $gomod"; exit 1; }
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in pkg/lint/rules pkg/chartutil; do
  ldflags="$ldflags -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$k8s_minor"
done
GOBIN="$gobin" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
log "built in $(( $(date +%s) - start )) s"
works || { log "built $bin but it does not report version $HELM_VERSION"; exit 1; }
echo "$bin"
