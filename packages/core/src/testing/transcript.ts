import type { BalanceStore, OrderLock } from '../store/balance-store'
import { deepEqual, show, StoreContractError } from './check'

/** One store call and what it answered, as two stores can compare it. */
export interface TranscriptLine {
  call: string
  answer: unknown
}

/**
 * `store`, with every call and its answer written to `lines` as it resolves. Reservation ids
 * differ from store to store: the transcript keeps only whether one was handed out. A lock is
 * kept as whether it was granted. A rejection is written, and rethrown.
 */
export function recording(store: BalanceStore, lines: TranscriptLine[]): BalanceStore {
  const note = async <T>(call: string, answer: T | Promise<T>, shown: (value: T) => unknown = (value) => value): Promise<T> => {
    try {
      const value = await answer
      lines.push({ call, answer: shown(value) })
      return value
    } catch (error) {
      lines.push({ call, answer: { rejected: error instanceof Error ? error.message : String(error) } })
      throw error
    }
  }
  return {
    reserve: (key, cost, now, ttlMs) =>
      note(`reserve(${key}, ${cost}, ${now}, ${ttlMs})`, store.reserve(key, cost, now, ttlMs), (outcome) => (outcome.ok ? { ...outcome, reservationId: outcome.reservationId !== '' } : outcome)),
    release: (key, id) => note(`release(${key})`, store.release(key, id), () => null),
    commit: (key, id, cost, served) => note(`commit(${key}, ${cost}, ${served})`, store.commit(key, id, cost, served)),
    settle: (key, amount, settlement) => note(`settle(${key}, ${amount}, ${show(settlement)})`, store.settle(key, amount, settlement), () => null),
    observe: (key, observation, startedAt, now) => note(`observe(${key}, ${show(observation)}, ${now})`, store.observe(key, observation, startedAt, now), () => null),
    snapshot: (key) => note(`snapshot(${key})`, store.snapshot(key)),
    recordOrder: (key, now, windowMs, max) => note(`recordOrder(${key}, ${now}, ${windowMs}, ${max})`, store.recordOrder(key, now, windowMs, max)),
    lockOrder: (key, ttlMs) => note<OrderLock | undefined>(`lockOrder(${key}, ${ttlMs})`, store.lockOrder(key, ttlMs), (lock) => lock !== undefined),
  }
}

/** The two transcripts must match line by line: the first difference throws, naming the call. */
export function sameTranscript(actual: TranscriptLine[], reference: TranscriptLine[]): void {
  const length = Math.max(actual.length, reference.length)
  for (let i = 0; i < length; i++) {
    const mine = actual[i]
    const theirs = reference[i]
    if (mine === undefined || theirs === undefined || mine.call !== theirs.call || !deepEqual(mine.answer, theirs.answer)) {
      throw new StoreContractError(
        `call ${i + 1} differs from MemoryBalanceStore: it answered ${theirs ? `${theirs.call} → ${show(theirs.answer)}` : 'nothing more'}, the store answered ${mine ? `${mine.call} → ${show(mine.answer)}` : 'nothing more'}`,
      )
    }
  }
}
