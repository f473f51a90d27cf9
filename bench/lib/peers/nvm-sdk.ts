/**
 * Nevermined's own Express middleware, `paymentMiddleware` of `@nevermined-io/payments/express`
 * v1.11.0: the real code, from the bundle kept outside the repository (see nvm-sdk-bundle.ts; the
 * npm registry here serves only 0.8.4, without x402). It reads `NVM_BACKEND_URL` once, when the module
 * loads, so each server loads its own copy with the stand-in API's origin set.
 *
 * Per request it verifies the `payment-signature` token upstream before the route, and settles it
 * upstream after a 2xx; it caches only the plan's metadata (5 minutes).
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { RequestHandler } from 'express'
import { sdkBundlePath, sdkMissingLine } from './nvm-sdk-bundle'

// Inside bench/node_modules: the bundle imports axios and jose, found from there.
const COPIES = fileURLToPath(new URL('../../node_modules/.nvm-sdk/', import.meta.url))

interface ExpressSdk {
  FacilitatorAPI: new (options: { nvmApiKey: string }) => unknown
  paymentMiddleware(payments: unknown, routes: Record<string, unknown>, options?: Record<string, unknown>): RequestHandler
}

export async function neverminedMiddleware(options: { origin: string; baseUrl: string; agentKey: string; planId: string; agentId: string }): Promise<RequestHandler> {
  const source = sdkBundlePath('nvm-sdk-express')
  if (!existsSync(source)) throw new Error(`bench: ${sdkMissingLine()}`)
  mkdirSync(COPIES, { recursive: true })
  const copy = `${COPIES}nvm-sdk-express.${process.pid}.mjs`
  copyFileSync(source, copy)
  process.env.NVM_BACKEND_URL = options.origin
  let sdk: ExpressSdk
  try {
    sdk = (await import(pathToFileURL(copy).href)) as ExpressSdk
  } finally {
    rmSync(copy, { force: true })
  }
  // What the middleware reads of a Payments instance: the facilitator, the plan lookup, the environment.
  const payments = {
    facilitator: new sdk.FacilitatorAPI({ nvmApiKey: options.agentKey }),
    plans: {
      async getPlan(id: string): Promise<unknown> {
        const response = await fetch(`${options.baseUrl}/protocol/plans/${id}`, { headers: { Authorization: `Bearer ${options.agentKey}` } })
        if (!response.ok) throw new Error(`bench: plan ${id} answered ${response.status}`)
        return response.json()
      },
    },
    getEnvironmentName: () => 'custom',
  }
  return sdk.paymentMiddleware(payments, { 'GET /ask': { planId: options.planId, credits: 1, agentId: options.agentId } })
}
