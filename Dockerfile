# Multi-stage: compile and build native addons on the same Node 24 image the runtime uses, so the ABI and
# libc match; ship only production node_modules and dist/. Cannot be built on the dev machines (no engine).
FROM node:24-bookworm-slim AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ libpcap-dev && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY providers ./providers
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpcap0.8 nftables && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The controller runs as "node"; the speaker DaemonSet overrides runAsUser 0 with only NET_ADMIN + NET_RAW.
USER node
ENTRYPOINT ["node", "/app/dist/src/main.js"]
