# The lb-operator image: the controller (`run`) and the bare-metal speaker (`speaker`). Cannot be built on the
# development machines (no container engine); kept simple enough to review.
#
# build:   all dependencies (TypeScript, the pinned Node for headers), compile to dist/.
# deps:    production dependencies only (npm ci --omit=dev); cap, the libpcap binding, is compiled here by its
#          install script against this image's Node and glibc, the same ones the runtime stage uses.
# runtime: node:24-bookworm-slim + libpcap0.8 and nftables for the speaker; dist/ and production node_modules only.
FROM node:24-bookworm-slim AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ libpcap-dev && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts/rebuild-native.sh ./scripts/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY providers ./providers
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim AS deps
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ libpcap-dev && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts/rebuild-native.sh ./scripts/
# The official image ships its Node's headers under /usr/local/include/node: no header download for node-gyp.
ENV npm_config_nodedir=/usr/local
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpcap0.8 nftables && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /src/package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# uid 1000 is the image's "node" user; the chart sets runAsUser 1000 (runAsNonRoot needs a numeric user). The
# speaker DaemonSet overrides runAsUser 0 with only NET_ADMIN + NET_RAW.
USER 1000
ENTRYPOINT ["node", "/app/dist/src/main.js"]
