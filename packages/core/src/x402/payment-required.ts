import { encodeBase64 } from '../util/base64'

/** An x402 v2 PaymentRequired, as Nevermined's facilitator and clients read it. */
export interface PaymentRequired {
  x402Version: 2
  error?: string
  resource: { url: string; description?: string; mimeType?: string }
  accepts: Array<{
    /** Left out where the gate does not know it yet (a plan not looked up, no scheme in the options). */
    scheme?: string
    network?: string
    planId: string
    extra: { version: '1'; agentId?: string; httpVerb?: string }
  }>
  extensions: Record<string, unknown>
}

/** How a plan is paid for, as the facilitator wants it named. */
export interface PaymentScheme {
  /** `nvm:erc4337` (crypto plans) or `nvm:card-delegation` (fiat plans). */
  scheme: string
  /** CAIP-2 network (`eip155:84532` on sandbox, `eip155:8453` on live) or the card provider. */
  network: string
}

/** The request a PaymentRequired is about. */
export interface PaidResource {
  /** The path and query the client asked for (what Nevermined's own middleware sends). */
  url: string
  /** The HTTP method, upper case. */
  method: string
}

/**
 * The PaymentRequired for one request: what a 402 tells an x402 client to buy, and what verify
 * and settle are asked to check the token against. Without a `scheme` (not known yet) the offer
 * names the plan alone.
 */
export function paymentRequired(planId: string, scheme: PaymentScheme | undefined, agentId: string | undefined, resource: PaidResource): PaymentRequired {
  return {
    x402Version: 2,
    resource: { url: resource.url },
    accepts: [
      {
        ...(scheme ? { scheme: scheme.scheme, network: scheme.network } : {}),
        planId,
        extra: { version: '1', ...(agentId ? { agentId } : {}), ...(resource.method ? { httpVerb: resource.method } : {}) },
      },
    ],
    extensions: {},
  }
}

/** The `payment-required` / `payment-response` header value: base64 of the JSON. */
export function encodeX402Header(value: unknown): string {
  return encodeBase64(JSON.stringify(value))
}

/** The network Nevermined uses for crypto plans in each environment (the SDK's defaults). */
export function defaultNetwork(scheme: string, baseUrl: string): string {
  if (scheme === 'nvm:card-delegation') return 'stripe'
  return baseUrl.includes('api.live.') ? 'eip155:8453' : 'eip155:84532'
}
