# The lb-operator image: the controller (`run`) and the bare-metal speaker (`speaker`).
# Built and tested in CI by scripts/build-image.sh and test/integration/image.test.ts (podman); `docker build .`
# builds the same recipe.
#
# BASE_IMAGE is the official node:24-bookworm-slim. Where no container registry is reachable,
# scripts/build-base-image.sh makes a stand-in from Debian packages and the pinned Node (same layout: Node and npm
# under /usr/local, headers in /usr/local/include/node, user node = uid 1000, apt sources for bookworm) and
# scripts/build-image.sh passes it as --build-arg BASE_IMAGE.
#
# toolchain: compilers and libpcap's headers, for cap (the libpcap binding), a native addon.
# build:     all dependencies without install scripts (TypeScript and types are all tsc needs), compile to dist/.
# deps:      production dependencies only (npm ci --omit=dev); cap is compiled by the postinstall
#            (scripts/rebuild-native.sh) against this image's Node and glibc, the same ones the runtime stage uses.
# runtime:   the base + libpcap0.8 and nftables for the speaker; dist/ and production node_modules only.
#
# npm's downloads go through a cache mount shared by the two npm stages. If npm on the building machine trusts an
# extra CA (a TLS-intercepting proxy), scripts/build-image.sh hands that bundle in as the build secret
# `npm-cafile`; it is used by npm only and is in no layer. Without the secret, npm uses its own CAs.
ARG BASE_IMAGE=node:24-bookworm-slim

FROM ${BASE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libpcap-dev \
 && rm -rf /var/lib/apt/lists/*

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    --mount=type=secret,id=npm-cafile \
    if [ -f /run/secrets/npm-cafile ]; then export npm_config_cafile=/run/secrets/npm-cafile; fi \
 && npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY providers ./providers
COPY speaker ./speaker
COPY testing ./testing
# Run by the image's node: without install scripts, node_modules/.bin/node (the pinned `node` package) is a stub.
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

FROM toolchain AS deps
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts ./scripts
# The base image ships its Node's headers under /usr/local/include/node: no header download for node-gyp.
ENV npm_config_nodedir=/usr/local
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    --mount=type=secret,id=npm-cafile \
    if [ -f /run/secrets/npm-cafile ]; then export npm_config_cafile=/run/secrets/npm-cafile; fi \
 && npm ci --omit=dev --no-audit --no-fund \
 && node -e 'require("cap")'

FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 nftables \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /src/package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# uid 1000 is the image's "node" user; the chart sets runAsUser 1000 (runAsNonRoot needs a numeric user). The
# speaker DaemonSet overrides runAsUser 0 with only NET_ADMIN + NET_RAW.
USER 1000
# Memory (bench/reconcile, 5,000 Services, idle RSS of the controller): 407 MB as Node starts by default, 316 MB
# with 8 MB semi-spaces (V8's default young generation kept ~100 MB of headroom after the create burst), 249 MB
# with glibc limited to 2 malloc arenas as well (by default 8 per core, each keeping freed memory). The bench reads
# both from this file (bench/support/production-runtime.ts), so it measures what the image runs.
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["node", "--max-semi-space-size=8", "/app/dist/src/main.js"]
