#!/usr/bin/env bash
# Builds the lb-operator image from ./Dockerfile with podman and prints its name as the last line (progress, the
# build time and the image size go to stderr).
#
# The base: BASE_IMAGE when given (e.g. node:24-bookworm-slim where a registry serves it), else the local stand-in
# from scripts/build-base-image.sh (Debian packages + the pinned Node; cached under the lb-operator cache dir).
# Layers are cached in podman's storage, so a second build with unchanged sources takes seconds.
#
# Podman here runs as root on a cgroup v1/v2 hybrid without systemd, which needs two flags on every podman command
# that starts a container (test/env/image/podman.ts passes the same ones):
#   --runtime runc   crun 1.8 refuses hybrid cgroups ("cgroups in hybrid mode not supported")
#   --ulimit ...     podman asks for more open files (1048576) and processes than this process may have, and the
#                    runtime's setrlimit fails (EPERM): nofile = our hard limit, nproc = podman's own 32768
# Builds use --network host: the RUN steps reach Debian's mirror and the npm registry as this machine does.
#
# Env:
#   IMAGE        name to tag (default localhost/lb-operator:<package.json version>)
#   BASE_IMAGE   base image (default: scripts/build-base-image.sh's)
#   BUILD_JOBS   stages built in parallel (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "build-image: $*" >&2; }

command -v podman >/dev/null || { log "podman is required (Debian: apt-get install podman runc)"; exit 1; }
command -v runc >/dev/null || { log "runc is required (Debian: apt-get install runc)"; exit 1; }

version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json | head -n1)"
[ -n "$version" ] || { log "cannot read the version from package.json"; exit 1; }
image="${IMAGE:-localhost/lb-operator:$version}"

started=$(date +%s)
base="${BASE_IMAGE:-}"
if [ -z "$base" ]; then
  log "base image: scripts/build-base-image.sh"
  base="$(bash scripts/build-base-image.sh | tail -n1)"
fi
log "base image: $base ($(( $(date +%s) - started )) s)"

build_args=()
# npm inside the build trusts what npm here trusts: a configured cafile (an intercepting proxy's CA bundle) is
# handed in as a build secret (never stored in a layer; see the Dockerfile).
cafile="$(npm config get cafile 2>/dev/null || true)"
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ "$cafile" != undefined ] && [ -f "$cafile" ]; then
  log "npm cafile: $cafile (build secret npm-cafile)"
  build_args+=(--secret "id=npm-cafile,src=$cafile")
fi

log "building $image from ./Dockerfile"
build_started=$(date +%s)
podman --runtime runc build \
  --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=32768:32768 \
  --network host --layers --jobs "${BUILD_JOBS:-2}" \
  --build-arg "BASE_IMAGE=$base" \
  "${build_args[@]}" \
  --tag "$image" . >&2
build_s=$(( $(date +%s) - build_started ))

size_bytes="$(podman image inspect --format '{{.Size}}' "$image")"
log "built $image in $build_s s (total with the base: $(( $(date +%s) - started )) s)"
log "image size: $(( size_bytes / 1024 / 1024 )) MiB ($size_bytes bytes, uncompressed)"
echo "$image"
