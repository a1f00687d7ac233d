# syntax=docker/dockerfile:1
# One image for every Magasin service; a container runs the service named by SERVICE
# (gateway, store, inventory, payment, transaction, saga, event-store, audit), as `npm start`
# runs it: `node --import tsx <main>` in its workspace folder. docker-compose.yml builds it once
# and sets SERVICE per service:
#   docker build -t magasin .
#   docker run -e SERVICE=store -e DATABASE_URL=... -e RABBITMQ_URL=... magasin

# Only what `npm ci` reads (manifests, the lock file, the Prisma schemas its postinstall
# generates clients from), so the dependency layer is rebuilt only when one of them changes.
FROM node:20-bookworm-slim AS manifests
WORKDIR /app
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -name schema.prisma \
      ! -path ./scripts/prisma-generate.mjs -delete \
 && find . -type d -empty -delete

FROM node:20-bookworm-slim
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY --from=manifests /app ./
# Development dependencies included: services run their TypeScript through tsx.
RUN npm ci && npm cache clean --force
COPY . .
# The services write nothing but logs (stdout); tsx caches its transforms in /tmp.
USER node
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/observability/docker/service.mjs", "health"]
# exec: the service is PID 1's only child and receives SIGTERM from `docker stop` (graceful drain).
CMD ["sh", "-c", "set -- $(node /app/observability/docker/service.mjs locate) && cd \"$1\" && exec node --import tsx \"$2\""]
