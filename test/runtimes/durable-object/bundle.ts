import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

export const DO_WORKER_DIR = fileURLToPath(new URL('./', import.meta.url))

/** worker.ts as one ES module for workerd (as wrangler bundles it): `cloudflare:workers` stays an import. */
export async function bundleDurableObjectWorker(): Promise<string> {
  const outfile = fileURLToPath(new URL('./dist/worker.js', import.meta.url))
  await build({
    entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['plangate-source'],
    external: ['cloudflare:workers'],
    logLevel: 'warning',
  })
  return outfile
}
