import { packageConfig } from '../../tsup.package'

export default packageConfig({
  entry: { index: 'src/index.ts', adapter: 'src/adapter.ts', store: 'src/store.ts', local: 'src/local/index.ts', reexport: 'src/reexport.ts', testing: 'src/testing/index.ts' },
  // Web APIs only: no Node built-ins are assumed (Workers, Deno, Bun).
  platform: 'neutral',
})
