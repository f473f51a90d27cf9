import { packageConfig } from '../../tsup.package'

export default packageConfig({ entry: { index: 'src/index.ts' } })
