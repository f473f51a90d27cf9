/**
 * What the usage routes of every driver do, framework-free: `/use` reports `n` (comma-separated
 * values, each one `balance.use()`) and answers `status`; `/stream` streams `chunks` lines, one
 * credit reported per line, stopping early once the balance's signal aborts; `/held` reports `n`,
 * streams one line, and then only waits for the balance's signal.
 */
import type { PlanBalance } from '@plangate/core'

/** Reports each of `n`'s values; a bad one throws, as `balance.use()` does. */
export function reportUse(balance: PlanBalance, n: string | undefined): { used: number } {
  for (const value of (n ?? '').split(',').filter(Boolean)) balance.use(Number(value))
  return { used: balance.used }
}

export const statusOf = (status: string | undefined): number => Number(status ?? 200)

/** `chunks` lines, 20 ms apart, one credit reported as each is written. */
export async function* lines(balance: PlanBalance, chunks: string | undefined): AsyncGenerator<string> {
  const n = Number(chunks ?? 5)
  for (let i = 0; i < n && !balance.signal.aborted; i++) {
    balance.use(1)
    yield `line ${i}\n`
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** A `usage` reading the route's `x-used` response header (missing or not a number: NaN, a bad value). */
export const usedFrom = (header: unknown): number => (header === undefined || header === null ? Number.NaN : Number(header))

/**
 * Reports `n`, streams one line, then waits for `balance.signal` (nothing else ends it) and records
 * why it aborted in `signals`: the line ends the stream only once the signal has fired.
 */
export async function* held(balance: PlanBalance, n: string | undefined, signals: string[]): AsyncGenerator<string> {
  reportUse(balance, n)
  yield 'held\n'
  const signal = balance.signal
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
  signals.push(`${(signal.reason as DOMException).name} after ${balance.used}`)
}
