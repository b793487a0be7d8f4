# syntax=docker/dockerfile:1
# The ecwatch image: one image for every role (aggregate, serve, sim, …); compose.yaml picks the
# command. Not built on the machines where ecwatch is developed (they run no Docker engine):
# test/unit/compose.test.ts checks this file and compose.yaml against the CLI instead.

# Build: compile TypeScript with the dev dependencies, then drop them.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime: the compiled CLI, its production dependencies and the fixtures the simulator reads.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY fixtures ./fixtures
# The node image's unprivileged user (uid 1000): aggregate, serve and sim write no files.
USER node
# No HEALTHCHECK in the image: of its roles only `serve` has something to ask (GET /healthz),
# so compose.yaml gives the api service its own.
ENTRYPOINT ["node", "bin/ecwatch"]
CMD ["--help"]
