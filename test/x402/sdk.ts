import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { hasNeverminedSdk, sdkMissingLine, sdkBundlePath, sdkRequired, type SdkBundle } from '../../bench/lib/peers/nvm-sdk-bundle'

/**
 * Nevermined's SDK v1.11.0 (bundled from its public source and kept outside the repository: see
 * bench/lib/peers/nvm-sdk-bundle.ts): the real buyer classes and the real Express middleware. Not on
 * the npm registry these machines reach, and not shipped: tests only. A suite that needs it runs
 * under `describe.runIf(sdkTests)`: skipped where the bundle is missing, except under CI.
 */

/** Whether the suites that run the SDK run here: the bundle is present, or CI requires it (and fails without it). */
export const sdkTests = hasNeverminedSdk() || sdkRequired()

// What the bundles export, as far as these tests use it (the bundles are plain JavaScript).
export interface SdkOptions {
  nvmApiKey: string
  environment?: string
}
export interface DelegationApi {
  createDelegation(payload: Record<string, unknown>): Promise<{ delegationId: string } & Record<string, unknown>>
}
export interface X402TokenApi {
  getX402AccessToken(planId: string, agentId?: string, tokenOptions?: Record<string, unknown>): Promise<{ accessToken: string } & Record<string, unknown>>
}
export interface FacilitatorApi {
  verifyPermissions(params: Record<string, unknown>): Promise<Record<string, unknown>>
  settlePermissions(params: Record<string, unknown>): Promise<Record<string, unknown>>
}
type Ctor<T> = new (options: SdkOptions) => T
export interface BuyerSdk {
  DelegationAPI: Ctor<DelegationApi>
  X402TokenAPI: Ctor<X402TokenApi>
  FacilitatorAPI: Ctor<FacilitatorApi>
  buildPaymentRequired(planId: string, options?: Record<string, unknown>): Record<string, unknown>
}
export interface ExpressSdk {
  FacilitatorAPI: Ctor<FacilitatorApi>
  paymentMiddleware(payments: unknown, routes: Record<string, unknown>, options?: Record<string, unknown>): (req: unknown, res: unknown, next: unknown) => void
}

// Inside the test package's node_modules: the bundles import axios and jose, found from there.
const COPIES = fileURLToPath(new URL('../node_modules/.nvm-sdk/', import.meta.url))

/**
 * Loads one of the bundles with `NVM_BACKEND_URL` set to `backend` (they read it once, when the
 * module loads, for keys without an environment prefix such as the local ledger's `nvm:` keys).
 * Each call loads a fresh copy, so two ledgers on two ports never share a module.
 */
export async function loadSdk<T extends BuyerSdk | ExpressSdk>(bundle: SdkBundle, backend: string): Promise<T> {
  const source = sdkBundlePath(bundle)
  if (!existsSync(source)) throw new Error(sdkMissingLine())
  mkdirSync(COPIES, { recursive: true })
  const copy = `${COPIES}${bundle}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.mjs`
  copyFileSync(source, copy)
  const before = process.env.NVM_BACKEND_URL
  process.env.NVM_BACKEND_URL = backend
  try {
    return (await import(/* @vite-ignore */ pathToFileURL(copy).href)) as T
  } finally {
    if (before === undefined) delete process.env.NVM_BACKEND_URL
    else process.env.NVM_BACKEND_URL = before
    rmSync(copy, { force: true })
  }
}

/** The origin a ledger served at `http://127.0.0.1:PORT/api/v1` lives at: the SDK adds `/api/v1/…` itself. */
export function originOf(baseUrl: string): string {
  return new URL(baseUrl).origin
}
