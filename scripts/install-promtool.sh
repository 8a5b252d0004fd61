#!/usr/bin/env bash
# Builds promtool (Prometheus's rule checker and rule unit test runner) from the Go module proxy into a cache
# directory outside the repo, once, and prints the path of the binary as the last line. Reuses the cached binary
# afterwards while it still runs. The chart's PrometheusRule is checked with `promtool check rules` and its alerts
# with `promtool test rules` (test/integration/prometheus-rules.test.ts).
#
# Prometheus 3.x publishes its Go module as v0.3MM.P for release 3.MM.P. `go install module@version` refuses a
# module whose go.mod has replace or exclude directives, so promtool is built from a throwaway module that
# requires github.com/prometheus/prometheus at the pinned version (the dependency's own directives are ignored).
#
# Env:
#   PROMTOOL_BIN        path of an existing promtool binary: used as is, nothing is built
#   LB_OPERATOR_CACHE   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator)
#   PROMETHEUS_VERSION  Go module version to build (default v0.316.0, i.e. Prometheus 3.16.0)
set -euo pipefail

PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"

log() { echo "install-promtool: $*" >&2; }

if [ -n "${PROMTOOL_BIN:-}" ]; then
  if [ -x "$PROMTOOL_BIN" ]; then
    echo "$PROMTOOL_BIN"
    exit 0
  fi
  log "PROMTOOL_BIN=$PROMTOOL_BIN is not an executable file"
  exit 1
fi

cache="${LB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator}"
dir="$cache/promtool-$PROMETHEUS_VERSION"
bin="$dir/bin/promtool"

# The release the module version stands for (v0.316.0 -> 3.16.0), stamped into the binary as Prometheus's own
# Makefile does (-X .../common/version.Version), so `promtool --version` names it.
mm="${PROMETHEUS_VERSION#v0.}"; mm="${mm%%.*}"
release="${mm:0:1}.$((10#${mm:1})).${PROMETHEUS_VERSION##*.}"

# A cached binary counts only if it runs and reports the pinned release (go build writes the binary last, and it is
# moved into place only once built, so an interrupted build leaves none).
works() {
  [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "^promtool, version $release "
}

if works; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { log "the Go toolchain is required to build promtool"; exit 1; }
log "building promtool from github.com/prometheus/prometheus $PROMETHEUS_VERSION into $dir (first run only; a few minutes)"
start=$(date +%s)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir/bin"
(
  cd "$work"
  go mod init lb-operator.local/promtool-build >/dev/null 2>&1
  cat >tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
GO
  GOFLAGS=-mod=mod go get "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" >&2
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X github.com/prometheus/common/version.Version=$release" -o "$bin.tmp" github.com/prometheus/prometheus/cmd/promtool >&2
  mv "$bin.tmp" "$bin"
)
log "built in $(( $(date +%s) - start )) s"
works || { log "built $bin but it does not report version $release"; exit 1; }
echo "$bin"
