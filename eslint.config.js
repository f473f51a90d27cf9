// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const NODE_BUILTINS = ['assert', 'buffer', 'child_process', 'crypto', 'events', 'fs', 'http', 'https', 'net', 'os', 'path', 'stream', 'timers', 'tls', 'url', 'util', 'worker_threads', 'zlib']

export default tseslint.config(
  { ignores: ['**/dist/**', 'bench/results/**', '**/node_modules/**', '**/coverage/**', 'examples/hono-worker/dist/**', '**/*.bundle.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      '@typescript-eslint/no-namespace': ['error', { allowDeclarations: true }],
    },
  },
  {
    // SPEC §1: core and hono run unchanged on workerd, Deno and Bun — Web APIs only (and the
    // Durable Object store, which runs on Workers only). So does the ledger, which core re-exports
    // as @plangate/core/local, except its command (npx @plangate/ledger), which uses node:http.
    files: ['packages/core/src/**/*.ts', 'packages/hono/src/**/*.ts', 'packages/cloudflare/src/**/*.ts', 'packages/ledger/src/**/*.ts'],
    ignores: ['packages/ledger/src/cli.ts', 'packages/ledger/src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['node:*'], message: 'core, hono, cloudflare and ledger must use Web APIs only (SPEC §1).' }],
          paths: NODE_BUILTINS.map((name) => ({ name, message: 'core, hono, cloudflare and ledger must use Web APIs only (SPEC §1).' })),
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: 'Use Uint8Array, TextEncoder and atob/btoa: core, hono, cloudflare and ledger run on workerd.' },
        { name: 'process', message: 'Read the environment through processEnv() (src/env.ts), which guards for runtimes without process.' },
        { name: 'require', message: 'ESM imports only.' },
        { name: '__dirname', message: 'Not defined on edge runtimes.' },
        { name: 'setImmediate', message: 'Not a Web API: use setTimeout or queueMicrotask.' },
      ],
    },
  },
)
