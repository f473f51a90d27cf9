/**
 * The store contract as data: a call to a `BalanceStore` that can travel as JSON (to the Worker's
 * /contract route) and run on any store, answering what the store answered, also as JSON. The
 * test runs the same calls on `MemoryBalanceStore` in Node and on the Durable Object store in
 * workerd, and the answers must be equal. A commit or release names an earlier reservation of its
 * key by its place among those granted (ids differ from store to store; their order does not).
 */
import type { BalanceStore } from '@plangate/core'
import type { EntrySnapshot, Observation, OrderLock, Settlement } from '@plangate/core/store'

export type ContractCall =
  /** `ttlMs: null` stands for Infinity (JSON has no Infinity). */
  | { method: 'reserve'; key: string; cost: number; now: number; ttlMs: number | null }
  /** `pick`: the reservation granted `pick`-th for `key` (modulo how many), or none when none was. */
  | { method: 'release'; key: string; pick: number }
  /** `cost` is the picked reservation's (this one's for none); `served` at most that. */
  | { method: 'commit'; key: string; pick: number; cost: number; served?: number }
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
  const granted = new Map<string, Array<{ id: string; cost: number }>>()
  const answers: unknown[] = []
  for (const call of calls) {
    // A rejection is an answer too: its message.
    answers.push(await runCall(store, call, locks, granted).catch((error: unknown) => ({ rejected: error instanceof Error ? error.message : String(error) })))
  }
  return JSON.parse(JSON.stringify(answers)) as unknown[]
}

async function runCall(store: BalanceStore, call: ContractCall, locks: OrderLock[], granted: Map<string, Array<{ id: string; cost: number }>>): Promise<unknown> {
  const pick = (key: string, n: number) => {
    const list = granted.get(key) ?? []
    return list.length === 0 ? undefined : list[n % list.length]
  }
  switch (call.method) {
    case 'reserve': {
      const outcome = await store.reserve(call.key, call.cost, call.now, call.ttlMs ?? Infinity)
      if (!outcome.ok) return outcome
      if (outcome.reservationId !== '') granted.set(call.key, [...(granted.get(call.key) ?? []), { id: outcome.reservationId, cost: call.cost }])
      // Whether it holds anything, not its id (which differs between stores).
      return { ...outcome, reservationId: outcome.reservationId !== '' }
    }
    case 'release':
      return (await store.release(call.key, pick(call.key, call.pick)?.id ?? 'none')) ?? null
    case 'commit': {
      const picked = pick(call.key, call.pick)
      const cost = picked?.cost ?? call.cost
      return store.commit(call.key, picked?.id ?? 'none', cost, call.served === undefined ? undefined : Math.min(call.served, cost))
    }
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
