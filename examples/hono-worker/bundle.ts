/**
 * Bundles worker.ts into dist/worker.js for workerd: one ES module, Web APIs only
 * (`platform: 'neutral'`), reading the workspace packages' sources (`plangate-source`), so no
 * package build is needed first. Wrangler does the same for a real deployment.
 *
 * `pnpm --filter @plangate/examples build:worker`; the runtime tests call `bundleWorker()`.
 */
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

export const WORKER_BUNDLE = fileURLToPath(new URL('./dist/worker.js', import.meta.url))

export async function bundleWorker(outfile = WORKER_BUNDLE): Promise<string> {
  await build({
    entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['plangate-source'],
    logLevel: 'warning',
  })
  return outfile
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`bundled ${await bundleWorker()}`)
