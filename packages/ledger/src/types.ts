/**
 * The public shape of the local ledger (`@plangate/ledger`, also `@plangate/core/local`). The implementation lives in the
 * sibling files; this one only says what callers may rely on.
 */

/** Options of {@link createLocalLedger}. */
export interface LocalLedgerOptions {
  /**
   * Where the ledger pretends to live. Only the path matters when routing (the host is ignored),
   * so the same ledger also answers when served over real HTTP on another host and port.
   * Default `'http://ledger.local/api/v1'`.
   */
  baseUrl?: string
  /**
   * The clock, in milliseconds since the epoch. Default `Date.now`. Tests pass their own to move
   * time forward for plan expiry and order lag without waiting.
   */
  now?: () => number
  /**
   * Serve the published `POST /protocol/plans/redeem`. Default false: like the live API, the
   * ledger answers it 404 (credits burn through `POST /x402/settle`). True for a gate created
   * with `settle: { via: 'redeem' }`, as for an API or proxy that serves the call.
   */
  serveRedeem?: boolean
  /**
   * The balance call's answer: `'published'` (default, `{isSubscriber, total, used, remaining,
   * expiresAt}`) or `'live'` (`{planId, holderAddress, balance: "<decimal>", isSubscriber, …}`,
   * the shape the live API has been seen to answer with: no expiry, no totals).
   */
  balanceShape?: 'published' | 'live'
}

/** An account of the ledger: a wallet address and an API key in the real `nvm:<jwt>` format. */
export interface LocalAccount {
  /** `nvm:<jwt>` whose payload's `sub` is {@link LocalAccount.address}. A secret, like a real key. */
  apiKey: string
  /** `0x` followed by 40 lower-case hex digits. */
  address: string
}

/**
 * The calls of the Nevermined API the ledger implements (docs/LOCAL-LEDGER.md, 'What it
 * answers'): the published three, the plan's metadata, and the x402 calls that burn credits on
 * the live API.
 */
export type LedgerEndpoint = 'order' | 'balance' | 'redeem' | 'plan' | 'verify' | 'settle' | 'delegation' | 'permission'

/**
 * A misbehaviour to inject into the next call(s) of one endpoint. Fields combine: e.g.
 * `{ delayMs: 50, status: 503 }` answers 503 after 50 ms.
 */
export interface LedgerFault {
  /** Answer with this HTTP status (JSON body `{message}` unless `body` is given). */
  status?: number
  /** Answer with this raw body (status 200 unless `status` is given), e.g. `'{"success":tr'`. */
  body?: string
  /** Content-Type of the faulty answer. Default `'application/json'`. */
  contentType?: string
  /** Extra response headers, e.g. `{ 'Retry-After': '1' }`. */
  headers?: Record<string, string>
  /** Wait this long before answering. An abort of the request's signal rejects, as fetch does. */
  delayMs?: number
  /** Reject with `TypeError('fetch failed')`, like a refused connection. */
  network?: boolean
  /**
   * Perform the real operation first, then answer with the fault: models "the redeem succeeded
   * upstream but its answer was lost".
   */
  afterApply?: boolean
  /**
   * Order only: the order is charged at once but its credits show (in the order's own answer and
   * in balance reads) only `lagMs` later, measured with the ledger's clock. The order's answer
   * shows the balance as it was before the order.
   */
  lagMs?: number
  /** How many upcoming calls of the endpoint the fault applies to. Default 1. */
  times?: number
}

/** A holder's balance of one plan, as `GET …/balance/{holder}` would answer it now. */
export interface LedgerBalance {
  isSubscriber: boolean
  total: number
  used: number
  remaining: number
  /** ISO date-time ending in `Z`, or null when the plan's credits never expire. */
  expiresAt: string | null
}

/**
 * A Nevermined-compatible API in memory (see docs/LOCAL-LEDGER.md), served by a web-standard `fetch` handler.
 *
 * @example
 * const ledger = createLocalLedger()
 * const owner = ledger.createAccount()
 * const alice = ledger.createAccount({ funds: 25 })
 * const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
 * const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
 */
export interface LocalLedger {
  /** The base URL clients should use, without a trailing slash, e.g. `http://ledger.local/api/v1`. */
  readonly baseUrl: string
  /**
   * The same handler as a server calls it: `fetch(request, env, ctx)`. `@hono/node-server` passes
   * its bindings and workerd a module worker's env; they are ignored. This overload is what lets
   * `serve({ fetch: ledger.fetch, port })` and `export default { fetch: ledger.fetch }` type-check.
   *
   * @example serve({ fetch: ledger.fetch, port: 4010 })
   */
  fetch(request: Request, env?: unknown, ctx?: unknown): Promise<Response>
  // Overload order matters: Parameters<>, vi.fn(ledger.fetch) and friends see only the last
  // signature, and code passes ledger.fetch where a fetch-like function is expected.
  /**
   * The web-standard handler, called like `fetch`. Bound, so `const f = ledger.fetch; f(request)`
   * works. Accepts a `Request`, or a URL and `RequestInit` like `fetch` (a relative URL resolves
   * against `baseUrl`).
   *
   * @example
   * const res = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, {
   *   method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` },
   * })
   */
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>
  /**
   * Opens an account (synchronous). `funds` (default 0) go into its wallet; `address` (default
   * random) lets a second key be issued for an existing wallet.
   *
   * @example const alice = ledger.createAccount({ funds: 25 })
   */
  createAccount(options?: { funds?: number; address?: string }): LocalAccount
  /**
   * Creates a plan and returns its id: `'1'`, `'2'`, … Each order costs `price` from the buyer's
   * wallet (paid to `owner`) and adds `credits`, which expire `durationSeconds` after the order
   * when given. Throws a `TypeError` on bad options.
   *
   * @example const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
   */
  createPlan(options: { credits: number; price: number; owner: string; durationSeconds?: number; fiat?: boolean }): string
  /** Adds `amount` to an address's wallet. @example ledger.fund(alice.address, 10) */
  fund(address: string, amount: number): void
  /** The funds left in an address's wallet (0 for an address never seen). @example ledger.wallet(alice.address) // 15 */
  wallet(address: string): number
  /**
   * The truth: what `GET …/balance/{address}` would answer now. Throws a `TypeError` for an
   * unknown plan or a malformed address.
   *
   * @example ledger.balance(planId, alice.address).remaining // 2
   */
  balance(planId: string, address: string): LedgerBalance
  /** Calls that reached the handler, per endpoint, faulted ones included. A snapshot. */
  readonly counters: Readonly<Record<LedgerEndpoint, number>>
  /** Sets every counter back to 0. */
  resetCounters(): void
  /**
   * Queues a fault for the next `fault.times` calls of `endpoint`. Faults of one endpoint apply in
   * the order they were injected. Throws a `TypeError` on a fault that makes no sense.
   *
   * @example ledger.inject('redeem', { status: 503, times: 2 })
   */
  inject(endpoint: LedgerEndpoint, fault: LedgerFault): void
  /** Drops every queued fault. */
  clearFaults(): void
  /** Credits burned so far, by redeem or by x402 settle, for one plan or all (a replayed proof counts once). */
  redeemed(planId?: string): number
  /** Orders that were charged so far, for one plan or all. */
  orders(planId?: string): number
}
