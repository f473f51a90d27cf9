/**
 * The store contract as data: a call to a `BalanceStore` that can travel as JSON (to the Worker's
 * /contract route) and run on any store, answering what the store answered, also as JSON. The
 * test runs the same calls on `MemoryBalanceStore` in Node and on the Durable Object store in
 * workerd, and the answers must be equal.
 */
import type { BalanceStore, EntrySnapshot, Observation, OrderLock, Settlement } from '@plangate/core'

export type ContractCall =
  /** `ttlMs: null` stands for Infinity (JSON has no Infinity). */
  | { method: 'reserve'; key: string; cost: number; now: number; ttlMs: number | null }
  | { method: 'release'; key: string; cost: number }
  | { method: 'commit'; key: string; cost: number }
  | { method: 'settle'; key: string; amount: number; settlement: Settlement }
  | { method: 'observe'; key: string; observation: Observation; startedAt: EntrySnapshot; now: number }
  | { method: 'snapshot'; key: string }
  | { method: 'recordOrder'; key: string; now: number; windowMs: number; max: number }
  /** Answers whether the lock was granted; a granted lock is kept, numbered in grant order. */
  | { method: 'lockOrder'; key: string; ttlMs: number }
  /** Releases the lock granted `lock`-th (0-based). */
  | { method: 'unlockOrder'; lock: number }
  | { method: 'sleep'; ms: number }

/** Runs the calls in order on `store`; each answer as JSON would carry it (undefined dropped). */
export async function runCalls(store: BalanceStore, calls: ContractCall[]): Promise<unknown[]> {
  const locks: OrderLock[] = []
  const answers: unknown[] = []
  for (const call of calls) {
    // A rejection is an answer too: its message.
    answers.push(await runCall(store, call, locks).catch((error: unknown) => ({ rejected: error instanceof Error ? error.message : String(error) })))
  }
  return JSON.parse(JSON.stringify(answers)) as unknown[]
}

async function runCall(store: BalanceStore, call: ContractCall, locks: OrderLock[]): Promise<unknown> {
  switch (call.method) {
    case 'reserve':
      return store.reserve(call.key, call.cost, call.now, call.ttlMs ?? Infinity)
    case 'release':
      return (await store.release(call.key, call.cost)) ?? null
    case 'commit':
      return (await store.commit(call.key, call.cost)) ?? null
    case 'settle':
      return (await store.settle(call.key, call.amount, call.settlement)) ?? null
    case 'observe':
      return (await store.observe(call.key, call.observation, call.startedAt, call.now)) ?? null
    case 'snapshot':
      return store.snapshot(call.key)
    case 'recordOrder':
      return store.recordOrder(call.key, call.now, call.windowMs, call.max)
    case 'lockOrder': {
      const lock = await store.lockOrder(call.key, call.ttlMs)
      if (lock !== undefined) locks.push(lock)
      return lock !== undefined
    }
    case 'unlockOrder':
      await locks[call.lock]!.release()
      return null
    case 'sleep':
      await new Promise((resolve) => setTimeout(resolve, call.ms))
      return null
  }
}
