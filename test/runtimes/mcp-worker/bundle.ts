import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

export const MCP_WORKER_DIR = fileURLToPath(new URL('./', import.meta.url))

/**
 * worker.ts as one ES module for workerd, as wrangler bundles it: Web APIs only, no nodejs_compat.
 * The MCP SDK's dependencies include CommonJS packages (ajv), found through `main`.
 */
export async function bundleMcpWorker(): Promise<string> {
  const outfile = fileURLToPath(new URL('./dist/worker.js', import.meta.url))
  await build({
    entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    conditions: ['plangate-source', 'workerd', 'worker', 'browser'],
    logLevel: 'warning',
  })
  return outfile
}
