import { defineConfig, type Options } from 'tsup'

/**
 * How every @plangate package is built: ESM and CommonJS, with types and source maps, for
 * ES2022. A package's tsup.config.ts names its entries (and anything of its own, such as an
 * external its runtime provides).
 *
 * @example export default packageConfig({ entry: { index: 'src/index.ts' } })
 */
export function packageConfig(options: Options & Pick<Required<Options>, 'entry'>) {
  return defineConfig({ format: ['esm', 'cjs'], dts: true, clean: true, sourcemap: true, target: 'es2022', ...options })
}
