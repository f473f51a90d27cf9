import { fileURLToPath } from 'node:url'
import { build, type BuildOptions } from 'esbuild'

/**
 * `<dir>/worker.ts` as one ES module for workerd in `<dir>/dist/worker.js`, as wrangler bundles
 * it: Web APIs only (`platform: 'neutral'`), the workspace packages read from their sources
 * (`plangate-source`), so no package build is needed first. `extra` adds what one Worker needs.
 */
export async function bundleForWorkerd(dir: URL, extra: Pick<BuildOptions, 'conditions' | 'external' | 'mainFields'> = {}): Promise<string> {
  const outfile = fileURLToPath(new URL('./dist/worker.js', dir))
  await build({
    entryPoints: [fileURLToPath(new URL('./worker.ts', dir))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    logLevel: 'warning',
    ...extra,
    conditions: ['plangate-source', ...(extra.conditions ?? [])],
  })
  return outfile
}
