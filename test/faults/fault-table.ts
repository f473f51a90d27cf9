/**
 * The failure table: one row per fault at one upstream call. docs/RELIABILITY.md prints the same
 * table; upstream-faults.test.ts runs every row against Express and Hono over real HTTP.
 *
 * Every row starts from a fresh world (plan: 3 credits for 10; the holder's wallet: 100; gate
 * `timeoutMs: 300`). Rows `at: 'balance'` and `at: 'redeem'` start with the holder subscribed
 * (3 credits); rows `at: 'order'` start with none, so the request has to order.
 */
import type { PlanGateOptions } from '@plangate/core'
import type { LedgerEndpoint, LedgerFault } from '@plangate/core/local'
import { sleep, type World } from './harness'

export const TIMEOUT_MS = 300
/** Longer than any budget below: a request that waited for it would blow its budget. */
const HANG = 10_000
const FAST = 1_500
const TIMED_OUT = TIMEOUT_MS + 2_000

export interface FaultRow {
  name: string
  at: LedgerEndpoint
  /** Faults queued on `at` before the request. */
  inject?: LedgerFault
  /** Runs before the request; returns what to run while it is in flight, if anything. */
  before?: (w: World) => Promise<void> | void
  /** Runs alongside the faulty request (e.g. stops the ledger once an answer is on its way). */
  during?: (w: World) => Promise<void>
  /** Runs after the faulty answer arrived, before the gate is closed. */
  after?: (w: World) => Promise<void> | void
  /** Undoes `before`/`during`/`after` (faults are cleared anyway). */
  restore?: (w: World) => Promise<void>
  gate?: Partial<PlanGateOptions>
  /** What the client gets, and within how long. */
  status: number
  code?: string
  budgetMs: number
  /** Orders charged upstream by the faulty request. */
  ordered: number
  /** Credits of the faulty request redeemed upstream once the gate is closed. */
  redeemed: number
  /** Credits reported to onError as not redeemed. */
  unredeemed?: number
  /** Orders the next, healthy request places (0: it uses what was already bought). */
  followUpOrders?: number
  /** Wait this long before the follow-up (e.g. for lagging credits to show). */
  followUpAfterMs?: number
  /** What the gate must have logged (e.g. that the order, not the balance read, was refused). */
  logged?: RegExp
}

const UNAVAILABLE = { status: 503, code: 'UPSTREAM_UNAVAILABLE' } as const
const INVALID_KEY = { status: 401, code: 'CREDENTIAL_INVALID' } as const
const PAYMENT = { status: 402, code: 'PAYMENT_REQUIRED' } as const
const NOT_FOUND = { status: 500, code: 'PLAN_NOT_FOUND' } as const
const SERVED = { status: 200 } as const

const HTML = { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' }
const HTML_200 = { body: '<!doctype html><title>Maintenance</title>', contentType: 'text/html' }
const ZERO_BALANCE = '{"isSubscriber":false,"total":0,"used":0,"remaining":0,"expiresAt":null}'
const balanceWith = (remaining: string) => `{"isSubscriber":true,"total":3,"used":0,"remaining":${remaining},"expiresAt":null}`
const orderWith = (balance: string) => `{"success":true,"txHash":"0xabc","balance":${balance}}`
const redeemWith = (fields: string) => `{"success":true,${fields}}`

/** The body faults every endpoint gets, as (name, body) pairs. */
function badBodies(endpoint: LedgerEndpoint): Array<[string, string]> {
  const shaped = (credits: string) =>
    endpoint === 'balance' ? balanceWith(credits) : endpoint === 'order' ? orderWith(balanceWith(credits)) : redeemWith(`"creditsRedeemed":1,"remainingBalance":${credits}`)
  return [
    ['truncated JSON', '{"isSubscriber":tr'],
    ['malformed JSON', '{"remaining": 3,,}'],
    ['an empty body', ''],
    ['negative credits', shaped('-1')],
    ['non-integer credits', shaped('1.5')],
    ['credits past MAX_SAFE_INTEGER', shaped('9007199254740993')],
    ['credits as a non-decimal string', shaped('"3e2"')],
    ['missing fields', endpoint === 'order' ? '{"success":true}' : endpoint === 'balance' ? '{"isSubscriber":true}' : '{"success":true}'],
  ]
}

const STATUS_FAULTS: Array<[string, LedgerFault]> = [
  ['500', { status: 500 }],
  ['502 with an HTML page', HTML],
  ['503 with Retry-After: 7', { status: 503, headers: { 'Retry-After': '7' } }],
  ['429', { status: 429 }],
  ['200 with an HTML page', HTML_200],
]

function balanceRows(): FaultRow[] {
  const base = { at: 'balance' as const, ordered: 0, redeemed: 0 }
  return [
    { ...base, name: 'time-out past timeoutMs', inject: { delayMs: HANG }, ...UNAVAILABLE, budgetMs: TIMED_OUT, logged: /balance .*timed out/ },
    {
      ...base,
      name: 'connection refused (nothing listening)',
      logged: /balance .*could not be reached/,
      before: (w) => w.upstream.stop(),
      restore: (w) => w.upstream.start(),
      ...UNAVAILABLE,
      budgetMs: FAST,
    },
    ...STATUS_FAULTS.map(([name, inject]) => ({ ...base, name, inject, ...UNAVAILABLE, budgetMs: FAST })),
    ...badBodies('balance').map(([name, body]) => ({ ...base, name, inject: { body }, ...UNAVAILABLE, budgetMs: FAST })),
    { ...base, name: '401', inject: { status: 401 }, ...INVALID_KEY, budgetMs: FAST },
    { ...base, name: '402', inject: { status: 402 }, ...PAYMENT, budgetMs: FAST },
    { ...base, name: '404', inject: { status: 404 }, ...NOT_FOUND, budgetMs: FAST },
  ]
}

function orderRows(): FaultRow[] {
  // Answer replaced: the order was not charged; the next request orders.
  const lost = { at: 'order' as const, ordered: 0, redeemed: 0, followUpOrders: 1 }
  // afterApply: charged upstream, the answer lost; the next request must use it, not buy again.
  const applied = { at: 'order' as const, ordered: 1, redeemed: 0, followUpOrders: 0 }
  return [
    { ...lost, name: 'time-out past timeoutMs', inject: { delayMs: HANG }, ...UNAVAILABLE, budgetMs: TIMED_OUT, logged: /order .*timed out/ },
    { ...applied, name: 'time-out after the order was charged', inject: { delayMs: HANG, afterApply: true }, ...UNAVAILABLE, budgetMs: TIMED_OUT },
    {
      ...lost,
      name: 'connection refused (the ledger stops between the last balance read and the order)',
      // Balance answers close their connection and take 250 ms; the ledger stops listening during
      // the second read (the one the gate makes, with redemptions held, just before ordering).
      // (timeoutMs 2 s here: a 250 ms answer must not time out on a loaded machine.)
      inject: undefined,
      gate: { timeoutMs: 2_000 },
      before: (w) => w.ledger.inject('balance', { delayMs: 250, body: ZERO_BALANCE, headers: { Connection: 'close' }, times: 2 }),
      during: async (w) => {
        const deadline = Date.now() + 5_000
        while (w.ledger.counters.balance < 2) {
          if (Date.now() > deadline) throw new Error('the gate never made its second balance read')
          await sleep(5)
        }
        await w.upstream.stop()
      },
      restore: (w) => w.upstream.start(),
      ...UNAVAILABLE,
      budgetMs: FAST,
      logged: /order .*could not be reached/,
    },
    ...STATUS_FAULTS.map(([name, inject]) => ({ ...lost, name, inject, ...UNAVAILABLE, budgetMs: FAST })),
    { ...applied, name: '500 after the order was charged', inject: { status: 500, afterApply: true }, ...UNAVAILABLE, budgetMs: FAST },
    ...badBodies('order').map(([name, body]) => ({ ...lost, name, inject: { body }, ...UNAVAILABLE, budgetMs: FAST })),
    { ...applied, name: 'truncated JSON after the order was charged', inject: { body: '{"success":tr', afterApply: true }, ...UNAVAILABLE, budgetMs: FAST },
    { ...lost, name: 'success: false', inject: { body: orderWith(ZERO_BALANCE).replace('true', 'false') }, ...PAYMENT, budgetMs: FAST },
    { ...lost, name: '401', inject: { status: 401 }, ...INVALID_KEY, budgetMs: FAST },
    { ...lost, name: '402 (payment failed)', inject: { status: 402 }, ...PAYMENT, budgetMs: FAST },
    { ...lost, name: '404', inject: { status: 404 }, ...NOT_FOUND, budgetMs: FAST },
    { ...applied, name: 'lag: credits show 400 ms after the order (polled)', inject: { lagMs: 400 }, ...SERVED, redeemed: 1, budgetMs: 400 + 2_500 },
    {
      ...applied,
      name: 'lag past pollTimeoutMs: 503, and the credits are used once they show',
      inject: { lagMs: 1_200 },
      gate: { autoOrder: { pollTimeoutMs: 300 } },
      ...UNAVAILABLE,
      budgetMs: 300 + TIMED_OUT,
      followUpAfterMs: 1_300,
    },
  ]
}

/** With `settle: { via: 'redeem' }`, for an API or proxy that serves the published redeem call. */
const VIA_REDEEM = { settle: { via: 'redeem' as const } }

function redeemRows(): FaultRow[] {
  // The request was served (200) before its redemption; retries land it exactly once.
  const retried = { at: 'redeem' as const, ...SERVED, budgetMs: FAST, ordered: 0, redeemed: 1, gate: VIA_REDEEM }
  // A final answer (no retry): onError gets the amount, nothing is redeemed.
  const final = { at: 'redeem' as const, ...SERVED, budgetMs: FAST, ordered: 0, redeemed: 0, unredeemed: 1, gate: VIA_REDEEM }
  return [
    { ...retried, name: 'time-out past timeoutMs (retried)', inject: { delayMs: HANG } },
    { ...retried, name: 'time-out after it was applied (retried with the same proof)', inject: { delayMs: HANG, afterApply: true } },
    {
      ...retried,
      name: 'connection refused (retried until the ledger is back)',
      gate: { settle: { batchMs: 60_000, via: 'redeem' } },
      after: async (w) => {
        await w.upstream.stop()
        setTimeout(() => void w.upstream.start(), 400)
      },
    },
    ...STATUS_FAULTS.map(([name, inject]) => ({ ...retried, name: `${name} (retried)`, inject })),
    { ...retried, name: '500 after it was applied (retried with the same proof)', inject: { status: 500, afterApply: true } },
    ...badBodies('redeem').map(([name, body]) => ({ ...retried, name: `${name} (retried)`, inject: { body } })),
    { ...retried, name: 'truncated JSON after it was applied (retried with the same proof)', inject: { body: '{"succ', afterApply: true } },
    { ...retried, name: 'success: false (retried)', inject: { body: '{"success":false,"creditsRedeemed":0,"remainingBalance":3}' } },
    { ...final, name: '503 past maxRetries: onError gets the amount', inject: { status: 503, times: 3 }, gate: { settle: { maxRetries: 2, via: 'redeem' } } },
    { ...final, name: '401 (the agent key refused)', inject: { status: 401 } },
    { ...final, name: '402 (too few credits upstream)', inject: { status: 402 } },
    { ...final, name: '404', inject: { status: 404 } },
  ]
}

const settleWith = (credits: string) => `{"success":true,"transaction":"0xabc","network":"eip155:84532","creditsRedeemed":"1","remainingBalance":${credits}}`

/**
 * x402 settle, the default way to burn (how the live API burns). Settle has no idempotency key:
 * a settle whose answer was lost is reconciled from the balance before it is sent again.
 */
function settleRows(): FaultRow[] {
  const retried = { at: 'settle' as const, ...SERVED, budgetMs: FAST, ordered: 0, redeemed: 1 }
  const final = { at: 'settle' as const, ...SERVED, budgetMs: FAST, ordered: 0, redeemed: 0, unredeemed: 1 }
  const bodies: Array<[string, string]> = [
    ['truncated JSON', '{"success":tr'],
    ['malformed JSON', '{"success": true,,}'],
    ['an empty body', ''],
    ['negative credits', settleWith('"-1"')],
    ['non-integer credits', settleWith('1.5')],
    ['credits past MAX_SAFE_INTEGER', settleWith('"9007199254740993"')],
    ['missing fields', '{"transaction":"0xabc"}'],
  ]
  return [
    { ...retried, name: 'time-out past timeoutMs (not applied: the balance says so, sent again)', inject: { delayMs: HANG } },
    { ...retried, name: 'time-out after it was applied (the balance says so: not sent again)', inject: { delayMs: HANG, afterApply: true } },
    {
      ...retried,
      name: 'connection refused (retried until the ledger is back)',
      gate: { settle: { batchMs: 60_000 } },
      after: async (w) => {
        await w.upstream.stop()
        setTimeout(() => void w.upstream.start(), 400)
      },
    },
    ...STATUS_FAULTS.map(([name, inject]) => ({ ...retried, name: `${name} (reconciled, sent again)`, inject })),
    { ...retried, name: '500 after it was applied (reconciled: not sent again)', inject: { status: 500, afterApply: true } },
    { ...retried, name: 'connection reset after it was applied (reconciled: not sent again)', inject: { network: true, afterApply: true } },
    ...bodies.map(([name, body]) => ({ ...retried, name: `${name} (reconciled, sent again)`, inject: { body } })),
    { ...retried, name: 'truncated JSON after it was applied (reconciled: not sent again)', inject: { body: '{"succ', afterApply: true } },
    { ...retried, name: '401 once (the token refused): a new token, then burned', inject: { status: 401 } },
    { ...retried, name: '402 BCK.X402.0005 once (delegation exhausted): a new token, then burned', inject: { status: 402, body: '{"message":"exhausted","code":"BCK.X402.0005"}' } },
    { ...final, name: 'success: false: onError gets the amount', inject: { body: '{"success":false,"errorReason":"refused","transaction":"","network":"eip155:84532"}' } },
    { ...final, name: '503 past maxRetries: onError gets the amount', inject: { status: 503, times: 3 }, gate: { settle: { maxRetries: 2 } } },
    { ...final, name: '401 twice (the new token refused too): onError gets the amount', inject: { status: 401, times: 2 } },
    { ...final, name: '404', inject: { status: 404 } },
  ]
}

/** The x402 token the gate obtains for a holder who pays by API key: its two calls. */
function tokenRows(): FaultRow[] {
  const retried = { ...SERVED, budgetMs: FAST, ordered: 0, redeemed: 1 }
  const final = { ...SERVED, budgetMs: FAST, ordered: 0, redeemed: 0, unredeemed: 1 }
  return [
    { ...retried, at: 'delegation', name: '503 (retried)', inject: { status: 503 } },
    { ...retried, at: 'permission', name: 'time-out past timeoutMs (retried)', inject: { delayMs: HANG } },
    { ...retried, at: 'permission', name: 'a body that breaks the contract (retried)', inject: { body: '{"token":1}' } },
    { ...final, at: 'delegation', name: '401 (the holder key refused): onError gets the amount', inject: { status: 401, times: 2 } },
    { ...final, at: 'permission', name: '402: onError gets the amount', inject: { status: 402, times: 2 } },
  ]
}

export const FAULT_ROWS: FaultRow[] = [...balanceRows(), ...orderRows(), ...redeemRows(), ...settleRows(), ...tokenRows()]

/** The row as docs/RELIABILITY.md prints it (a test keeps the two in sync). */
export function docLine(row: FaultRow): string {
  const answer = row.code ? `${row.status} ${row.code}` : `${row.status} (served)`
  const money =
    row.at === 'balance'
      ? 'nothing ordered or redeemed'
      : row.at === 'order'
        ? row.ordered === 0
          ? 'not charged; the next request orders'
          : row.status === 200
            ? 'charged once; served once the credits show'
            : 'charged once; the next request uses those credits, no second order'
        : row.unredeemed
          ? 'not burned: `onError` gets the amount'
          : 'burned exactly once'
  return `| ${row.at} | ${row.name} | ${answer} | < ${(row.budgetMs / 1000).toFixed(1)} s | ${money} |`
}
