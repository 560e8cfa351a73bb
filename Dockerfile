# bird-confd: renders Calico BGP data into BIRD 1.6 config and reloads BIRD (see deploy/).
#
#   docker build -t bird-confd .
#
# Build stage: compile the TypeScript sources (dev dependencies are needed only here).
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts/ scripts/
COPY src/ src/
COPY bin/ bin/
COPY templates/ templates/
# `npm ci` runs the build through the prepare script; the explicit build keeps it visible.
RUN npm ci && npm run build

# Runtime stage: production dependencies, the compiled code and the templates.
FROM node:20-slim
# No BIRD: bird-confd runs beside calico-node's, and asks it over its control socket both to check
# a staged config (configure check) and to reload. iproute2 gives `ip rule`, used only while
# service loop prevention is on (deploy/loop-prevention-patch.yaml grants what it needs).
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 bird-confd \
 && useradd --system --uid 10001 --gid bird-confd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin bird-confd
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build again (without the dev tools), and no runtime
# dependency needs an install script.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/ dist/
COPY bin/ bin/
COPY templates/ templates/
# Non-root. BIRD's control socket is root:root mode 0660 in calico-node, so reloading needs the
# root group as a supplementary group (deploy/daemonset.yaml adds it).
USER 10001:10001
# For plain Docker: the daemon's own /livez, on the --metrics-address of CMD (the DaemonSet has
# its own probes and arguments).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:9179/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/bird-confd.js"]
CMD ["watch", "--datastore", "kubernetes", "--metrics-address", "127.0.0.1:9179"]
