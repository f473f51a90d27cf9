import { createLocalLedger, type LocalAccount, type LocalLedger } from '../../src/local'

/** A fixed start instant, so expiry dates in assertions are readable. */
export const START = Date.parse('2030-01-01T00:00:00.000Z')

export interface Setup {
  ledger: LocalLedger
  clock: { now: () => number; advance: (ms: number) => void }
  owner: LocalAccount
  alice: LocalAccount
  /** A plan of 2 credits for 10, owned by `owner`, never expiring. */
  planId: string
  order: (apiKey: string, planId?: string, init?: RequestInit) => Promise<Response>
  balance: (apiKey: string, holder: string, planId?: string, init?: RequestInit) => Promise<Response>
  redeem: (apiKey: string, body: unknown, init?: RequestInit) => Promise<Response>
}

/** A ledger on a hand-driven clock, an owner, a subscriber with 25 in her wallet, and one plan. */
export function setup(): Setup {
  let time = START
  const clock = { now: () => time, advance: (ms: number) => void (time += ms) }
  const ledger = createLocalLedger({ now: clock.now, serveRedeem: true })
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 25 })
  const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
  const url = (path: string) => `${ledger.baseUrl}${path}`
  const auth = (apiKey: string, init?: RequestInit) => ({ ...init, headers: { Authorization: `Bearer ${apiKey}`, ...init?.headers } })

  return {
    ledger,
    clock,
    owner,
    alice,
    planId,
    order: (apiKey, plan = planId, init) => ledger.fetch(url(`/protocol/plans/${plan}/order`), { method: 'POST', ...auth(apiKey, init) }),
    balance: (apiKey, holder, plan = planId, init) => ledger.fetch(url(`/protocol/plans/${plan}/balance/${holder}`), auth(apiKey, init)),
    redeem: (apiKey, body, init) =>
      ledger.fetch(url('/protocol/plans/redeem'), {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...auth(apiKey, { ...init, headers: { 'Content-Type': 'application/json', ...init?.headers } }),
      }),
  }
}

/** Decodes one base64url JWT segment to its bytes. */
export function base64UrlBytes(segment: string): Uint8Array {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/')
  return Uint8Array.from(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0))
}

/** Decodes one base64url JWT segment as JSON. */
export function base64UrlJson(segment: string): unknown {
  return JSON.parse(new TextDecoder().decode(base64UrlBytes(segment)))
}
