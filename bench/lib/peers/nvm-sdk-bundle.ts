/**
 * Where Nevermined's SDK v1.11.0 bundle is found, for the tests and benchmarks that run it as the
 * real buyer and the real peer. The npm registry serves only 0.8.4 (without x402), so the bundle
 * is built from the SDK's public source and kept outside the repository: `../shared/vendor`
 * beside the checkout, or the folder `NVM_SDK_BUNDLE_DIR` names.
 *
 * A user's clone has neither, and its tests must still pass: what needs the bundle is skipped
 * with one line saying so. Under `CI=true` the bundle is laid out on purpose, so its absence is
 * a failure, never a silent skip.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export type SdkBundle = 'nvm-sdk-buyer' | 'nvm-sdk-express'

/** The folder holding `nvm-sdk-buyer.js` and `nvm-sdk-express.js`. */
export const NVM_SDK_DIR = process.env.NVM_SDK_BUNDLE_DIR
  ? resolve(process.env.NVM_SDK_BUNDLE_DIR)
  : fileURLToPath(new URL('../../../../shared/vendor/', import.meta.url))

export function sdkBundlePath(bundle: SdkBundle): string {
  return resolve(NVM_SDK_DIR, `${bundle}.js`)
}

/** Both bundles are present. */
export function hasNeverminedSdk(): boolean {
  return existsSync(sdkBundlePath('nvm-sdk-buyer')) && existsSync(sdkBundlePath('nvm-sdk-express'))
}

/** True where a missing bundle must fail the run rather than skip: CI lays it out. */
export function sdkRequired(): boolean {
  return process.env.CI === 'true'
}

/** The one line printed when the bundle is missing: what that means here, and how to get it. */
export function sdkMissingLine(): string {
  const consequence = sdkRequired()
    ? 'under CI=true the interop tests and benchmarks that run it fail without it'
    : "the interop tests and benchmarks that run it (the SDK's buyer, its paymentMiddleware) are skipped"
  return `Nevermined's SDK bundle is not at ${NVM_SDK_DIR}: ${consequence}. ` +
    'To run them, bundle release v1.11.0 of github.com/nevermined-io/payments (src/x402) with esbuild into nvm-sdk-buyer.js and nvm-sdk-express.js, ' +
    'dependencies external, and put them in ../shared/vendor beside the repository or set NVM_SDK_BUNDLE_DIR to their folder.'
}
