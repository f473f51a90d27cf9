/**
 * A stand-in x402 facilitator, for `@x402/express` and `@x402/hono`: the three calls their
 * `HTTPFacilitatorClient` makes (`POST /verify`, `POST /settle`, `GET /supported`), answered in
 * the shapes its response schemas accept. It checks nothing cryptographic (there is no chain on
 * loopback): a payment is valid when it names the scheme, network and amount the route asked for,
 * which is enough for the middleware to run its whole per-request path.
 */

export const X402_NETWORK = 'eip155:84532'
export const X402_SCHEME = 'exact'

export interface FacilitatorCounters {
  verify: number
  settle: number
  supported: number
}

interface FacilitatorBody {
  paymentPayload?: { accepted?: { scheme?: string; network?: string; amount?: string }; payload?: { authorization?: { from?: string } } }
  paymentRequirements?: { scheme?: string; network?: string; amount?: string }
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

export function createStandInFacilitator(): { counters: FacilitatorCounters; fetch(request: Request, path: string): Promise<Response> } {
  const counters: FacilitatorCounters = { verify: 0, settle: 0, supported: 0 }
  let transactions = 0
  return {
    counters,
    async fetch(request, path) {
      if (path === 'supported' && request.method === 'GET') {
        counters.supported++
        return json({ kinds: [{ x402Version: 2, scheme: X402_SCHEME, network: X402_NETWORK }], extensions: [], signers: {} })
      }
      if (request.method !== 'POST' || (path !== 'verify' && path !== 'settle')) return json({ error: 'not found' }, 404)
      counters[path]++
      const body = (await request.json()) as FacilitatorBody
      const accepted = body.paymentPayload?.accepted
      const required = body.paymentRequirements
      const payer = body.paymentPayload?.payload?.authorization?.from
      const matches =
        accepted !== undefined &&
        required !== undefined &&
        accepted.scheme === required.scheme &&
        accepted.network === required.network &&
        accepted.amount === required.amount &&
        typeof payer === 'string'
      if (path === 'verify') return json(matches ? { isValid: true, payer } : { isValid: false, invalidReason: 'invalid_payload' })
      if (!matches) return json({ success: false, errorReason: 'invalid_payload', transaction: '', network: X402_NETWORK })
      transactions++
      return json({ success: true, payer, transaction: `0x${transactions.toString(16).padStart(64, '0')}`, network: X402_NETWORK, amount: required!.amount })
    },
  }
}
