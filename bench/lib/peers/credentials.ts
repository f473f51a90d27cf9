/**
 * What each row's load generator sends. plangate takes either credential (an API key in
 * `Authorization`, or an x402 access token in `payment-signature`); Nevermined's middleware takes
 * the token only; `@x402/express`/`@x402/hono` take an x402 `exact` payment payload, built here from
 * the route's own 402 answer (its `payment-required` header) with one payer per holder.
 */
import type { Ready } from '../protocol'

export type Credential = 'key' | 'token' | 'payload'

export function headersFor(credential: Credential, upstream: Ready, payloads: string[]): Record<string, string>[] {
  if (credential === 'key') return upstream.keys.map((key) => ({ authorization: `Bearer ${key}` }))
  if (credential === 'token') return upstream.tokens!.map((token) => ({ 'payment-signature': token }))
  return payloads.map((payload) => ({ 'payment-signature': payload }))
}

/** One x402 `exact` payment payload per holder, for the requirements a 402 from `port` offers. */
export async function x402Payloads(port: number, holders: number): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${port}/ask`)
  await response.arrayBuffer()
  const header = response.headers.get('payment-required')
  if (response.status !== 402 || header === null) throw new Error(`bench: the x402 server answered ${response.status} without payment, expected 402 with payment-required`)
  const required = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { resource: unknown; accepts: { amount: string; payTo: string }[] }
  const accepted = required.accepts[0]!
  return Array.from({ length: holders }, (_, i) => {
    const from = `0x${(i + 1).toString(16).padStart(40, '0')}`
    const payload = {
      x402Version: 2,
      resource: required.resource,
      accepted,
      payload: {
        signature: `0x${'11'.repeat(65)}`,
        authorization: { from, to: accepted.payTo, value: accepted.amount, validAfter: '0', validBefore: String(2 ** 40), nonce: `0x${(i + 1).toString(16).padStart(64, '0')}` },
      },
    }
    return Buffer.from(JSON.stringify(payload)).toString('base64')
  })
}
