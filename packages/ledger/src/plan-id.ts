/**
 * Plan ids as the ledger reads them from paths and bodies: a uint256 in decimal, or a JSON number
 * that is a safe non-negative integer. Leading zeros are dropped, so `07` and `7` are one plan,
 * as they are for plangate's `normalizePlanId`, which sends the same canonical form.
 */

// A uint256 has at most 78 decimal digits; anything much longer is not an id.
const MAX_DIGITS = 100
const DECIMAL = new RegExp(`^[0-9]{1,${MAX_DIGITS}}$`)

/**
 * The canonical decimal form of a plan id, or undefined when `value` is not one.
 *
 * @example canonicalPlanId('007') // '7'
 * @example canonicalPlanId(-1) // undefined
 */
export function canonicalPlanId(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined
  if (typeof value !== 'string' || !DECIMAL.test(value)) return undefined
  return value.replace(/^0+(?=\d)/, '')
}
