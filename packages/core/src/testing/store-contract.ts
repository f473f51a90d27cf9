import type { BalanceStore, MaybePromise } from '../store/balance-store'
import { MemoryBalanceStore } from '../store/memory-store'
import type { CaseTools, ContractCase, ManualClock } from './case'
import { LEASE_CASES } from './cases-leases'
import { OVERLAP_CASES } from './cases-overlap'
import { RESERVE_CASES } from './cases-reserve'
import { SETTLE_CASES } from './cases-settle'
import { StoreContractError } from './check'
import { recording, sameTranscript, type TranscriptLine } from './transcript'

/** The store a contract run checks. */
export interface StoreUnderTest {
  /** Names the store in the suite's title. */
  name: string
  /** A new store, holding nothing: every case (and every run within one) starts from one. */
  create(): MaybePromise<BalanceStore>
  /**
   * A new store whose reservation leases are timed by `now` and last `reservationLeaseMs`. Give
   * it when the store's clock can be driven: the lease cases run on it (they move the clock by
   * hand, nothing sleeps). A store timed by a clock of its own (Redis's TIME) leaves it out.
   */
  createWithClock?(options: { now: () => number; reservationLeaseMs: number }): MaybePromise<BalanceStore>
  /** `true` for a shared store: its order lock keeps a second holder out (the memory store's never does). */
  exclusiveOrderLock?: boolean
  /** Called with each store made once its case ends (disconnect, flush). */
  dispose?(store: BalanceStore): MaybePromise<void>
}

/** The test runner's functions the suite registers itself with (vitest, jest, mocha, node:test). */
export interface ContractRunner {
  describe(name: string, body: () => void): unknown
  it(name: string, body: () => Promise<void>): unknown
}

/** One check of the contract, ready to run: resolves when the store keeps it, rejects with a `StoreContractError` when not. */
export interface StoreContractCheck {
  name: string
  run(): Promise<void>
}

/** Every case, in the order they run. */
export const CONTRACT_CASES: readonly ContractCase[] = Object.freeze([...RESERVE_CASES, ...SETTLE_CASES, ...OVERLAP_CASES, ...LEASE_CASES])

/** The lease the lease cases make their stores with (ms). */
const LEASE_MS = 60_000

/**
 * The contract's checks for `subject`, as plain async functions (no test runner needed). Each
 * runs its case on a fresh MemoryBalanceStore (the reference) and on a fresh `subject` store,
 * with the same calls: every answer must equal the memory store's, and each case's own
 * expectations must hold on both. Cases the subject cannot take (no `createWithClock`, no
 * exclusive lock) are left out.
 *
 * @example
 * for (const check of storeContractChecks({ name: 'my store', create: () => new MyStore() })) {
 *   await check.run() // throws StoreContractError on the first answer that differs
 * }
 */
export function storeContractChecks(subject: StoreUnderTest): StoreContractCheck[] {
  return CONTRACT_CASES.filter((c) => applies(c, subject)).map((c) => ({ name: c.name, run: () => runCase(c, subject) }))
}

/**
 * Registers the store contract for `subject` with a test runner: one `describe` named after it,
 * one `it` per case. Takes the runner's functions so that it works with any of them.
 *
 * @example
 * import { describe, it } from 'vitest'
 * import { storeContract } from '@plangate/core/testing'
 *
 * storeContract({ describe, it }, {
 *   name: 'MyStore',
 *   create: () => new MyStore({ prefix: crypto.randomUUID() }),
 *   exclusiveOrderLock: true,
 * })
 */
export function storeContract(runner: ContractRunner, subject: StoreUnderTest): void {
  runner.describe(`BalanceStore contract: ${subject.name}`, () => {
    for (const check of storeContractChecks(subject)) runner.it(check.name, check.run)
  })
}

function applies(c: ContractCase, subject: StoreUnderTest): boolean {
  if (c.needs === 'clock') return subject.createWithClock !== undefined
  if (c.needs === 'exclusive-lock') return subject.exclusiveOrderLock === true
  return true
}

/** Runs `c` on the reference, then on the subject, and compares their transcripts. */
async function runCase(c: ContractCase, subject: StoreUnderTest): Promise<void> {
  const reference: StoreUnderTest = {
    name: 'MemoryBalanceStore',
    create: () => new MemoryBalanceStore(),
    createWithClock: (options) => new MemoryBalanceStore(options),
  }
  // The memory store's lock excludes nothing (one process): a case of exclusion has no reference.
  if (c.needs === 'exclusive-lock') {
    await runOn(c, subject)
    return
  }
  let expected: TranscriptLine[]
  try {
    expected = await runOn(c, reference)
  } catch (error) {
    // The contract contradicts its own reference: a bug in the contract, not in the subject.
    throw new StoreContractError(`the contract fails on MemoryBalanceStore itself: ${error instanceof Error ? error.message : String(error)}`)
  }
  const actual = await runOn(c, subject)
  if (c.compared !== false) sameTranscript(actual, expected)
}

/** Runs `c` on stores made by `subject`, all recorded into one transcript. */
async function runOn(c: ContractCase, subject: StoreUnderTest): Promise<TranscriptLine[]> {
  const lines: TranscriptLine[] = []
  const made: BalanceStore[] = []
  const clock = manualClock(Date.now())
  const make = async () => {
    const store = c.needs === 'clock' ? await subject.createWithClock!({ now: clock.now, reservationLeaseMs: LEASE_MS }) : await subject.create()
    made.push(store)
    return store
  }
  try {
    const first = await make()
    const tools: CaseTools = { direct: first, fresh: async () => recording(await make(), lines), clock, leaseMs: LEASE_MS }
    await c.run(recording(first, lines), tools)
    return lines
  } finally {
    for (const store of made) await subject.dispose?.(store)
  }
}

function manualClock(start: number): ManualClock {
  let at = start
  return {
    now: () => at,
    advance(ms) {
      at += ms
    },
  }
}
