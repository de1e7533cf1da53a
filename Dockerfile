# vigil's container image: the runtime and the bundled example model, no build step (tsx runs the
# TypeScript). Used by docker-compose.yml; see docs/dashboards.md.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app
RUN chown node:node /app
USER node

# Dependencies first, so source edits do not reinstall them. .npmrc skips onnxruntime-node's CUDA
# download (its CPU binaries ship in the package), so the install needs only the npm registry.
COPY --chown=node:node package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY --chown=node:node . .
# The web console (Next.js) is built into the image, so the container starts serving it at once.
RUN node bin/vigil.mjs console build

# 8000: inference, /metrics and /api/v1; 3000: the web console.
EXPOSE 8000 3000
# docker-compose.yml adds a healthcheck on /v2/health/ready (node's fetch: the slim image has no curl).
CMD ["node", "bin/vigil.mjs", "start", "--host", "0.0.0.0", "--port", "8000"]
