# Waihu API and worker (one image, two commands). The worker synthesises prompts with espeak-ng: Debian 13
# (trixie) ships espeak-ng 1.52, which reads Mandarin correctly (1.51 reads pinyin letters).
FROM node:20-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY config ./config
RUN npm run build && npm prune --omit=dev

FROM node:20-trixie-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends espeak-ng sox \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
