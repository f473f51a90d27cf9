/**
 * The contract's own assertions, so that it needs no test runner: a mismatch throws a
 * `StoreContractError` saying what was expected and what the store answered.
 */

/** Thrown when a store answers other than the contract says. */
export class StoreContractError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreContractError'
  }
}

/**
 * Deep equality of plain data (objects, arrays, numbers, strings, booleans, null, undefined) as a
 * store answers it: a property that is undefined equals one that is absent (a store that builds
 * its answers from a script's reply need not spell `total: undefined`).
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]))
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)])
  for (const key of keys) if (!deepEqual(ra[key], rb[key])) return false
  return true
}

/** `actual` must deep-equal `expected`; `what` names the step in the error. */
export function same(actual: unknown, expected: unknown, what: string): void {
  if (!deepEqual(actual, expected)) {
    throw new StoreContractError(`${what}: expected ${show(expected)}, the store answered ${show(actual)}`)
  }
}

/** `condition` must hold; `what` says what it means. */
export function holds(condition: boolean, what: string): void {
  if (!condition) throw new StoreContractError(what)
}

/** JSON, with undefined and Infinity spelled out (JSON would drop or null them). */
export function show(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (v === undefined) return '«undefined»'
      if (typeof v === 'number' && !Number.isFinite(v)) return `«${String(v)}»`
      return v
    }) ?? 'undefined'
  )
}
