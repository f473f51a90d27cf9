import { defineConfig } from 'tsup'

export default defineConfig({
  // Web APIs only, so it bundles unchanged for workerd, Deno and Bun.
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
})
