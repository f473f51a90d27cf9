/**
 * `balance.signal`'s reasons. The DOMException is made only once a signal exists to carry it
 * (making one is the costliest step of a metered request), so these check that a signal read
 * before the abort, and one read only after it, say the same thing.
 */
import { describe, expect, it } from 'vitest'
import { abortBalance, RequestBalance } from '../src/adapter'
import { meter } from '../src/request-balance'

function metered(max: number): RequestBalance {
  const balance = new RequestBalance('7', '0xabc', 10, max, null)
  meter(balance)
  return balance
}

const reason = (signal: AbortSignal) => ({ aborted: signal.aborted, name: (signal.reason as DOMException | undefined)?.name, message: (signal.reason as DOMException | undefined)?.message })

describe('balance.signal', () => {
  const quota = { aborted: true, name: 'QuotaExceededError', message: 'plangate: the request used its maximum of 3 credits.' }
  const gone = { aborted: true, name: 'AbortError', message: 'plangate: the client went away.' }

  it('aborts with QuotaExceededError when use() reaches the maximum, read before or after', () => {
    const early = metered(3)
    const signal = early.signal
    early.use(2)
    expect(signal.aborted).toBe(false)
    early.use(1)
    expect(reason(signal)).toEqual(quota)
    const late = metered(3)
    late.use(5)
    expect(reason(late.signal)).toEqual(quota)
    expect(late.signal).toBe(late.signal)
    expect(late.signal.reason).toBe(late.signal.reason)
  })

  it('aborts with AbortError when the client goes, read before or after', () => {
    const early = metered(3)
    const signal = early.signal
    abortBalance(early)
    expect(reason(signal)).toEqual(gone)
    const late = metered(3)
    abortBalance(late)
    expect(reason(late.signal)).toEqual(gone)
  })

  it('keeps the first reason: a client gone after the maximum was used leaves it QuotaExceededError', () => {
    for (const read of [true, false]) {
      const balance = metered(3)
      if (read) void balance.signal
      balance.use(3)
      abortBalance(balance)
      balance.use(0)
      expect(reason(balance.signal)).toEqual(quota)
    }
    const balance = metered(3)
    abortBalance(balance)
    balance.use(3)
    expect(reason(balance.signal)).toEqual(gone)
  })

  it('does not abort before either', () => {
    const balance = metered(3)
    balance.use(2)
    expect(reason(balance.signal)).toEqual({ aborted: false, name: undefined, message: undefined })
  })
})
