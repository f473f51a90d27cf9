import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// Tests read the packages' sources directly, so a test run needs no build first.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@plangate\/core\/local$/, replacement: src('./packages/core/src/local/index.ts') },
      { find: /^@plangate\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@plangate\/core\/adapter$/, replacement: src('./packages/core/src/adapter.ts') },
      { find: /^@plangate\/core\/store$/, replacement: src('./packages/core/src/store.ts') },
      { find: /^@plangate\/core\/reexport$/, replacement: src('./packages/core/src/reexport.ts') },
      { find: /^@plangate\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@plangate\/cloudflare$/, replacement: src('./packages/cloudflare/src/index.ts') },
      { find: /^@plangate\/express$/, replacement: src('./packages/express/src/index.ts') },
      { find: /^@plangate\/hono$/, replacement: src('./packages/hono/src/index.ts') },
      { find: /^@plangate\/ledger$/, replacement: src('./packages/ledger/src/index.ts') },
      { find: /^@plangate\/koa$/, replacement: src('./packages/koa/src/index.ts') },
      { find: /^@plangate\/mcp\/node$/, replacement: src('./packages/mcp/src/node.ts') },
      { find: /^@plangate\/mcp\/web$/, replacement: src('./packages/mcp/src/web.ts') },
      { find: /^@plangate\/mcp$/, replacement: src('./packages/mcp/src/index.ts') },
      { find: /^@plangate\/fastify$/, replacement: src('./packages/fastify/src/index.ts') },
      { find: /^@plangate\/node$/, replacement: src('./packages/node/src/index.ts') },
      { find: /^@plangate\/proxy$/, replacement: src('./packages/proxy/src/index.ts') },
      { find: /^@plangate\/redis$/, replacement: src('./packages/redis/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    typecheck: { enabled: true, include: ['packages/*/test/**/*.test-d.ts', 'test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
