import type { PlanBalance } from './lease'

/** Why a balance's signal aborts: its maximum was used, or the client went away. */
type Abort = 'quota' | 'gone'

// Set by RequestBalance's static block: adapters reach its private state only through these.
let meterOn: (balance: RequestBalance) => void
let closeOn: (balance: RequestBalance) => void
let clientGone: (balance: RequestBalance) => void
let takeReport: (balance: RequestBalance) => number | undefined | 'charged'

/**
 * What the route sees as `req.balance` (`c.get('balance')`, `ctx.state.balance`,
 * `request.balance`): the caller's balance, and the meter of what this request used.
 *
 * Its data fields are its own enumerable properties, so `res.json(req.balance)` sends those five
 * alone; the meter (`use`, `used`, `signal`) lives on the prototype and in private fields.
 */
export class RequestBalance implements PlanBalance {
  #used = 0
  #reported = false
  /** Made on first read of `signal`: most routes never read it, and an AbortController is not free. */
  #controller: AbortController | undefined
  /**
   * Why the signal aborts, once it must: the DOMException itself is made only when a signal
   * exists to carry it (constructing one captures a stack trace, about a quarter of a warm
   * request's time when every request reaches its maximum; BENCHMARKS.md, usage pricing).
   */
  #abortedWith: Abort | undefined
  /** The charge was taken: nothing reported after that counts. */
  #charged = false
  /** The route is priced by usage (`cost: { max }`): `use()` counts. */
  #metered = false

  constructor(
    public planId: string,
    public holderAddress: string,
    public remaining: number,
    public cost: number,
    public expiresAt: string | null,
  ) {}

  /**
   * Adds `credits` to what this request used. The request is then charged what it used (at most
   * `cost`, the maximum reserved for it) instead of the whole maximum.
   *
   * @throws TypeError for anything but a non-negative safe integer: the route fails, and a request
   *   that fails is charged nothing.
   * @example
   * for await (const chunk of llm.stream(prompt, { signal: req.balance.signal })) {
   *   res.write(chunk.text)
   *   req.balance.use(chunk.tokens)
   * }
   */
  use(credits: number): void {
    if (typeof credits !== 'number' || !Number.isSafeInteger(credits) || credits < 0) {
      throw new TypeError(`plangate: balance.use() takes a non-negative integer number of credits, got ${describe(credits)}.`)
    }
    if (!this.#metered) {
      throw new TypeError(`plangate: balance.use() counts only on a route priced by usage: give its requirePlan cost: { max: ${this.cost} } (the most a request may be charged).`)
    }
    if (this.#charged) return
    this.#used += credits
    this.#reported = true
    if (this.#used >= this.cost) this.#abort('quota')
  }

  /** Credits this request has reported with `use()` so far. */
  get used(): number {
    return this.#used
  }

  /**
   * Aborts when the client goes away, or when `used` reaches `cost`: a route that generates
   * (an LLM stream, a long search) stops there. Its `reason` is a DOMException named
   * `AbortError` (the client left) or `QuotaExceededError` (the maximum was used).
   */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#abortedWith !== undefined) this.#controller.abort(this.#reason(this.#abortedWith))
    }
    return this.#controller.signal
  }

  #abort(why: Abort): void {
    if (this.#abortedWith !== undefined) return
    this.#abortedWith = why
    this.#controller?.abort(this.#reason(why))
  }

  #reason(why: Abort): DOMException {
    return why === 'quota'
      ? new DOMException(`plangate: the request used its maximum of ${this.cost} credits.`, 'QuotaExceededError')
      : new DOMException('plangate: the client went away.', 'AbortError')
  }

  static {
    meterOn = (balance) => (balance.#metered = true)
    closeOn = (balance) => (balance.#charged = true)
    clientGone = (balance) => balance.#abort('gone')
    takeReport = (balance) => {
      if (balance.#charged) return 'charged'
      balance.#charged = true
      return balance.#metered && balance.#reported ? balance.#used : undefined
    }
  }
}

/** For admit: the route is priced by usage, so `use()` counts. */
export function meter(balance: PlanBalance): void {
  if (balance instanceof RequestBalance) meterOn(balance)
}

/** For the lease: it was committed or released, so nothing reported after counts (nor is asked). */
export function closeMeter(balance: PlanBalance): void {
  if (balance instanceof RequestBalance) closeOn(balance)
}

/** For adapters: the client went away, so the balance's `signal` aborts. */
export function abortBalance(balance: PlanBalance): void {
  if (balance instanceof RequestBalance) clientGone(balance)
}

/**
 * For the charge: what the route reported with `use()` (undefined: nothing), once; `'charged'`
 * when the charge was taken already (the immediate x402 settle takes it before the answer ends).
 */
export function takeUsageReport(balance: PlanBalance): number | undefined | 'charged' {
  return balance instanceof RequestBalance ? takeReport(balance) : undefined
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value === 'string' ? JSON.stringify(value).slice(0, 40) : typeof value
}
