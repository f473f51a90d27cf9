import { defineConfig } from 'tsup'
import { packageConfig } from '../../tsup.package'

export default defineConfig([
  packageConfig({ entry: { index: 'src/index.ts' } }),
  // The executable: ESM only, run by node through the package's `bin`.
  { entry: { cli: 'src/cli.ts' }, format: ['esm'], sourcemap: true, target: 'es2022', banner: { js: '#!/usr/bin/env node' } },
])
