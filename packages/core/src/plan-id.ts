/** What `requirePlan` and `gate.reserve` accept as a plan id. */
export type PlanId = number | bigint | string

const DECIMAL = /^[0-9]+$/
// Long enough for a uint256 (78 digits) with room to spare; anything longer is not an id.
const MAX_DIGITS = 100

/**
 * Turns a plan id into the canonical decimal string that goes on the wire and into cache keys.
 * Throws a `TypeError` naming the problem: ids end up in URLs, so nothing unvalidated passes.
 *
 * @example normalizePlanId(7) // '7'
 * @example normalizePlanId(2n ** 200n) // '1606938044258990275541962092341162602522202993782792835301376'
 */
export function normalizePlanId(planId: unknown): string {
  if (typeof planId === 'number') {
    if (!Number.isSafeInteger(planId) || planId < 0) {
      throw new TypeError(
        `plangate: planId ${String(planId)} is not a safe non-negative integer; pass large ids as a decimal string or a bigint`,
      )
    }
    return String(planId)
  }
  if (typeof planId === 'bigint') {
    if (planId < 0n) throw new TypeError('plangate: planId must not be negative')
    const digits = planId.toString(10)
    if (digits.length > MAX_DIGITS) throw new TypeError(`plangate: planId has more than ${MAX_DIGITS} digits`)
    return digits
  }
  if (typeof planId === 'string') {
    if (!DECIMAL.test(planId) || planId.length > MAX_DIGITS) {
      throw new TypeError(
        `plangate: planId must be a string of decimal digits (at most ${MAX_DIGITS}), got ${describe(planId)}`,
      )
    }
    // Leading zeros would make '07' and '7' two cache entries for one plan.
    return planId.replace(/^0+(?=\d)/, '')
  }
  throw new TypeError(`plangate: planId must be a number, bigint or decimal string, got ${typeof planId}`)
}

function describe(value: string): string {
  return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value)
}
