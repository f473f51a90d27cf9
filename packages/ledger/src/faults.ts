import { jsonResponse } from './http'
import type { LedgerEndpoint, LedgerFault } from './types'
import { toCount, toDuration } from './validate'

const ENDPOINTS: readonly LedgerEndpoint[] = ['order', 'balance', 'redeem', 'plan', 'verify', 'settle', 'delegation', 'permission']

interface Queued {
  fault: LedgerFault
  left: number
}

/**
 * The injected faults, one queue per endpoint. A fault with `times: n` stays at the head of its
 * queue for the next n calls, then the next fault (if any) takes over.
 */
export class FaultQueue {
  readonly #queues = Object.fromEntries(ENDPOINTS.map((endpoint) => [endpoint, []])) as unknown as Record<LedgerEndpoint, Queued[]>

  inject(endpoint: LedgerEndpoint, fault: LedgerFault): void {
    if (!ENDPOINTS.includes(endpoint)) {
      throw new TypeError(`local ledger: inject endpoint must be one of ${ENDPOINTS.join(', ')}`)
    }
    const checked = checkFault(endpoint, fault)
    this.#queues[endpoint].push({ fault: checked, left: checked.times ?? 1 })
  }

  /** The fault for this call of `endpoint`, if one is queued; consumes one of its `times`. */
  take(endpoint: LedgerEndpoint): LedgerFault | undefined {
    const queue = this.#queues[endpoint]
    const head = queue[0]
    if (!head) return undefined
    head.left -= 1
    if (head.left === 0) queue.shift()
    return head.fault
  }

  clear(): void {
    for (const endpoint of ENDPOINTS) this.#queues[endpoint] = []
  }
}

// Fail at inject() rather than at the faulty call, where the error would surface as a puzzling
// rejection deep inside the code under test.
function checkFault(endpoint: LedgerEndpoint, fault: LedgerFault): LedgerFault {
  if (typeof fault !== 'object' || fault === null) throw new TypeError('local ledger: inject needs a fault object')
  const { status, body, contentType, headers, delayMs, lagMs, times } = fault
  if (status !== undefined && (!Number.isInteger(status) || status < 200 || status > 599)) {
    throw new TypeError('local ledger: fault status must be an integer from 200 to 599')
  }
  if (body !== undefined && typeof body !== 'string') throw new TypeError('local ledger: fault body must be a string')
  if (contentType !== undefined && typeof contentType !== 'string') {
    throw new TypeError('local ledger: fault contentType must be a string')
  }
  if (headers !== undefined) new Headers(headers) // throws a TypeError on an invalid name or value
  if (delayMs !== undefined) toDuration(delayMs, 'fault delayMs')
  if (lagMs !== undefined) {
    if (endpoint !== 'order') throw new TypeError('local ledger: fault lagMs applies to the order endpoint only')
    toDuration(lagMs, 'fault lagMs')
  }
  if (times !== undefined) toCount(times, 'fault times', 1)
  // A copy, so the caller mutating its object later does not change a queued fault.
  return { ...fault, headers: headers === undefined ? undefined : { ...headers } }
}

/** Whether the fault replaces the real answer (otherwise it only delays, lags or loses nothing). */
export function replacesAnswer(fault: LedgerFault): boolean {
  return fault.network === true || fault.status !== undefined || fault.body !== undefined
}

/**
 * Settles like a faulty server would: rejects as a refused connection does, or answers the
 * injected status and body. Call only when {@link replacesAnswer} is true.
 */
export function faultAnswer(fault: LedgerFault): Response {
  if (fault.network) throw new TypeError('fetch failed')
  const status = fault.status ?? 200
  const headers = { 'Content-Type': fault.contentType ?? 'application/json', ...fault.headers }
  if (fault.body === undefined) {
    return jsonResponse(status, { message: `Injected fault: the ledger answers ${status}.` }, headers)
  }
  return new Response(NULL_BODY_STATUSES.has(status) ? null : fault.body, { status, headers })
}

// The Response constructor refuses a body with these statuses.
const NULL_BODY_STATUSES = new Set([204, 205, 304])

/**
 * Waits `ms` like a slow network. If `signal` aborts first, rejects with its reason, as `fetch`
 * does when the request is aborted in flight (an `AbortError` or, for `AbortSignal.timeout`, a
 * `TimeoutError` DOMException).
 */
export function delay(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal))
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortReason(signal!))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** What `fetch` rejects with for an aborted request. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}
