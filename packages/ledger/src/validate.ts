/**
 * Checks of the values callers hand to the ledger's methods. Each failure is a `TypeError` that
 * names the option, so a misconfigured test fails at its setup rather than with a puzzling 402.
 */

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** Whether `value` is a wallet address (`0x` and 40 hex digits, any case). */
export function isAddress(value: unknown): value is string {
  return typeof value === 'string' && ADDRESS.test(value)
}

/** The canonical (lower-case) form of an address; throws a `TypeError` naming `what` otherwise. */
export function toAddress(value: unknown, what: string): string {
  if (!isAddress(value)) {
    throw new TypeError(`local ledger: ${what} must be an address (0x followed by 40 hex digits)`)
  }
  return value.toLowerCase()
}

/** Money (wallet funds, plan prices): a finite number, not negative. */
export function toMoney(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`local ledger: ${what} must be a finite number, 0 or more`)
  }
  return value
}

/** A count of credits or calls: a safe integer of at least `min`. */
export function toCount(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`local ledger: ${what} must be an integer of at least ${min}`)
  }
  return value
}

/** A length of time: a finite number, not negative (positive when `positive`). */
export function toDuration(value: unknown, what: string, positive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new TypeError(`local ledger: ${what} must be a finite number ${positive ? 'above 0' : '0 or more'}`)
  }
  return value
}
