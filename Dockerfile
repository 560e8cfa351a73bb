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
# Debian's bird (1.6) and birdc. The default check asks calico-node's own BIRD over its control
# socket (configure check); Debian's `bird -p` (--check parse) lacks Calico's krt_tunnel.
# policy-rc.d keeps the package from starting a BIRD during the build.
# Debian ships no birdcl; birdc given a command runs it non-interactively, so birdcl (the default
# reload command) points to it.
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
 && apt-get update \
 && apt-get install -y --no-install-recommends bird \
 && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d \
 && ln -s birdc /usr/sbin/birdcl \
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
# root group as a supplementary group (the DaemonSet adds it; see deploy/README.md).
USER 10001:10001
# A liveness probe for plain Docker; replace with the daemon's /livez once it serves one.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "bin/bird-confd.js", "--version"]
ENTRYPOINT ["node", "bin/bird-confd.js"]
CMD ["watch", "--datastore", "kubernetes"]
