# ticklake container: the CLI (`ticklake run` for the nightly batch; any other command works too).
# Two stages: the build stage has the C++ toolchain that the native addons (better-sqlite3, zstd-napi)
# compile with and the dev dependencies that compile the TypeScript; the runtime stage gets only the
# built dist/, bin/ and the production node_modules (native addons already compiled for this image).
#
#   docker build -t ticklake .
#   docker run --rm ticklake --help
#   docker run --rm -e TICKLAKE_LAKE=gs://bucket/lake -e TICKLAKE_CATALOG=postgres://... ticklake run ...
#
# See docs/DEPLOY.md.

FROM node:20-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Sources before `npm ci`: its `prepare` script compiles them (tsc -p tsconfig.build.json → dist/).
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -f dist/.tsbuildinfo

FROM node:20-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY docs ./docs
COPY deploy/nightly.sh ./deploy/nightly.sh
RUN ln -s /app/bin/ticklake.js /usr/local/bin/ticklake && chmod +x /app/bin/ticklake.js /app/deploy/nightly.sh
# Staging files and the remote read cache live under /tmp (mount an emptyDir / larger disk there).
ENV TMPDIR=/tmp XDG_CACHE_HOME=/tmp/cache XDG_DATA_HOME=/tmp/data
USER node
# tini forwards SIGTERM (Kubernetes / Cloud Run stop) so `ticklake run` can stop cleanly.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/ticklake.js"]
CMD ["--help"]
