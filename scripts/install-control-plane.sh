#!/usr/bin/env bash
# Builds kube-apiserver, etcd, and the node-side parts the bare-metal lab runs (kube-proxy, kube-controller-manager)
# from the Go module proxy into a cache directory outside the repo, once, and prints the directory holding all four
# binaries. Reuses the cache afterwards; a binary missing from an older cache is built alone.
#
# k8s.io/kubernetes cannot be `go install`ed: it requires its staging modules at v0.0.0
# (kubernetes/kubernetes#79384). A throwaway module that replaces every staging module with its published
# v0.X.Y release builds it (../shared/reference/upstream.md section 4). etcd's server module has replace
# directives too (etcd-io/etcd#18501), so it gets the same wrapper-module treatment.
#
# Env:
#   LB_OPERATOR_ASSETS   a directory that already holds the four binaries: used as is, nothing is built
#                        (like envtest's KUBEBUILDER_ASSETS, which is honoured as a fallback)
#   LB_OPERATOR_CACHE    cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator)
#   K8S_VERSION, ETCD_VERSION  versions to build
#   KUBE_COMMANDS        the Kubernetes commands wanted (default: kube-apiserver kube-proxy kube-controller-manager);
#                        a test of an older apiserver asks for kube-apiserver alone
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"

read -r -a KUBE_BINARIES <<< "${KUBE_COMMANDS:-kube-apiserver kube-proxy kube-controller-manager}"
has_all() {
  local b
  for b in "${KUBE_BINARIES[@]}" etcd; do [ -x "$1/$b" ] || return 1; done
}

for d in "${LB_OPERATOR_ASSETS:-}" "${KUBEBUILDER_ASSETS:-}"; do
  if [ -n "$d" ] && has_all "$d"; then
    echo "$d"
    exit 0
  fi
done

cache="${LB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator}"
out="$cache/control-plane/kube-$K8S_VERSION-etcd-$ETCD_VERSION"
if has_all "$out"; then
  echo "$out"
  exit 0
fi

log() { echo "install-control-plane: $*" >&2; }

command -v go >/dev/null || { log "the Go toolchain is required to build ${KUBE_BINARIES[*]} and etcd"; exit 1; }
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0

missing=()
for b in "${KUBE_BINARIES[@]}"; do [ -x "$out/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -gt 0 ]; then
  # One wrapper module for all three commands: they share most packages, so the second and third build mostly
  # from Go's build cache (kube-proxy and kube-controller-manager add about a minute on 2 cores after kube-apiserver).
  log "building ${missing[*]} $K8S_VERSION (first run only; several minutes)"
  staging="v0.${K8S_VERSION#v1.}"
  mkdir -p "$work/kube" && cd "$work/kube"
  go mod init lb-operator.local/kube-build >/dev/null 2>&1
  gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "require k8s.io/kubernetes $K8S_VERSION"
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#replace \1 => \1 '"$staging"'#p' "$gomod"
  } >> go.mod
  go mod download k8s.io/kubernetes >/dev/null
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for b in "${missing[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b"; done
    printf ')\n'
  } > tools.go
  go mod tidy >&2
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
  for b in "${missing[@]}"; do
    started=$(date +%s)
    go build -trimpath -ldflags "$ldflags" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b" >&2
    mv "$out/$b.tmp" "$out/$b"
    log "built $b in $(( $(date +%s) - started )) s"
  done
fi

if [ ! -x "$out/etcd" ]; then
  log "building etcd $ETCD_VERSION (first run only)"
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init lb-operator.local/etcd-build >/dev/null 2>&1
  echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION" >> go.mod
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" go.etcd.io/etcd/server/v3 >&2
  mv "$out/etcd.tmp" "$out/etcd"
fi

echo "$out"
