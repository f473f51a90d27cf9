import { packageConfig } from '../../tsup.package'

// cloudflare:workers is provided by the Workers runtime.
export default packageConfig({ entry: { index: 'src/index.ts' }, external: ['cloudflare:workers'] })
