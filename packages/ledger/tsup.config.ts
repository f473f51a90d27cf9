import { defineConfig } from 'tsup'
import { packageConfig } from '../../tsup.package'

export default defineConfig([
  // The library: Web APIs only, so it bundles unchanged for workerd, Deno and Bun.
  packageConfig({ entry: { index: 'src/index.ts' }, platform: 'neutral' }),
  // The executable: ESM only, run by node through the package's `bin`.
  { entry: { cli: 'src/cli.ts' }, format: ['esm'], sourcemap: true, target: 'es2022', platform: 'node', banner: { js: '#!/usr/bin/env node' } },
])
