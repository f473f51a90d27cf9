import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', adapter: 'src/adapter.ts', store: 'src/store.ts', local: 'src/local/index.ts', reexport: 'src/reexport.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
})
