# vault-multicast agent image.
#
#   docker build -t vault-multicast .
#   docker run --rm --network host -v /etc/vault-multicast:/etc/vault-multicast:ro vault-multicast
#
# Host networking is what makes multicast work: a container's bridge network does not carry the LAN's
# multicast. The default configuration (/etc/vault-multicast/agent.yaml, from config/agent.yaml) stays on
# loopback; mount your own at that path (docs/deploy.md). tini is PID 1, so SIGTERM reaches the agent, which
# then sends its goodbye announcements, and SIGHUP reloads the configuration.
# test/packaging/dockerfile-steps.test.ts performs these steps outside Docker on every CI run.

# One pin for both stages. A version tag, not a digest: bump it with Node 24 LTS patch releases.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# --- build: dev dependencies, TypeScript compile, the web page ----------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies, the compiled agent and page, the default configuration ---------------
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
# The commit built (the release workflow passes github.sha): build_info's revision label and an OCI label.
ARG REVISION=""
LABEL org.opencontainers.image.title="vault-multicast" \
      org.opencontainers.image.description="Multicast service discovery agent with Prometheus and OpenTelemetry metrics" \
      org.opencontainers.image.source="https://github.com/vault-multicast/vault-multicast" \
      org.opencontainers.image.url="https://github.com/vault-multicast/vault-multicast" \
      org.opencontainers.image.documentation="https://github.com/vault-multicast/vault-multicast/blob/main/docs/deploy.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="vault-multicast" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/node:24.22.3-bookworm-slim"

# tini forwards signals to the agent and reaps children; the Debian package, not a download.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

# The same uid/gid as the Helm chart's runAsUser, so file ownership agrees in both.
RUN groupadd --system --gid 10001 vault-multicast \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vault-multicast

ENV NODE_ENV=production \
    VAULT_MULTICAST_REVISION=${REVISION} \
    VM_HEALTHCHECK_URL=http://127.0.0.1:9477/-/healthy
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/web ./dist/web
COPY config/agent.yaml /etc/vault-multicast/agent.yaml
COPY config/examples /usr/share/vault-multicast/examples

USER 10001:10001
EXPOSE 9477
# Node's fetch, no curl in the image. Set VM_HEALTHCHECK_URL when http.listen is not 127.0.0.1:9477
# (e.g. http://192.0.2.10:9477/-/healthy); Kubernetes ignores HEALTHCHECK and uses the chart's probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.VM_HEALTHCHECK_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A young generation of 16 MiB semi-spaces: Node 24 lets it grow to 64 MiB ones under a datagram flood, which an
# agent of 100,000 services then holds as ~130 MiB of RSS (docs/performance.md, "Memory per service").
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=16", "/app/dist/src/cli/main.js"]
CMD ["agent", "--config", "/etc/vault-multicast/agent.yaml"]
