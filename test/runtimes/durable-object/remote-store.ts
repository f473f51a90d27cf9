/**
 * The Durable Object store in workerd, driven from Node one call at a time as a `BalanceStore`,
 * so that the store contract of `@plangate/core/testing` runs on it unchanged. Each call is one
 * POST to the Worker's TEST ONLY /store route (worker.ts), which runs it on
 * `createDurableObjectStore(env.PLANGATE_STORE)` and answers what the store answered: reservation
 * ids included (unlike /contract, which hides them), an order lock as a token the Worker keeps.
 * The namespace outlives every store made here: each puts a prefix of its own before its keys.
 */
import type { BalanceStore } from '@plangate/core'
import type { EntrySnapshot, Observation, OrderLock, Settlement } from '@plangate/core/store'

export type StoreCall =
  /** `ttlMs: null` stands for Infinity (JSON has no Infinity). */
  | { method: 'reserve'; key: string; cost: number; now: number; ttlMs: number | null }
  | { method: 'release'; key: string; id: string }
  | { method: 'commit'; key: string; id: string; cost: number; served?: number }
  | { method: 'settle'; key: string; amount: number; settlement: Settlement }
  | { method: 'observe'; key: string; observation: Observation; startedAt: EntrySnapshot; now: number }
  | { method: 'snapshot'; key: string }
  | { method: 'recordOrder'; key: string; now: number; windowMs: number; max: number }
  /** Answers a token for the lock, or null when another holds it. */
  | { method: 'lockOrder'; key: string; ttlMs: number }
  | { method: 'unlockOrder'; token: string }

/** The locks granted through /store, by token (in the Worker; one isolate serves a test run's calls). */
const locks = new Map<string, OrderLock>()

/** In the Worker: runs one call on `store`. */
export async function runStoreCall(store: BalanceStore, call: StoreCall): Promise<unknown> {
  switch (call.method) {
    case 'reserve':
      return store.reserve(call.key, call.cost, call.now, call.ttlMs ?? Infinity)
    case 'release':
      return store.release(call.key, call.id)
    case 'commit':
      return call.served === undefined ? store.commit(call.key, call.id, call.cost) : store.commit(call.key, call.id, call.cost, call.served)
    case 'settle':
      return store.settle(call.key, call.amount, call.settlement)
    case 'observe':
      return store.observe(call.key, call.observation, call.startedAt, call.now)
    case 'snapshot':
      return store.snapshot(call.key)
    case 'recordOrder':
      return store.recordOrder(call.key, call.now, call.windowMs, call.max)
    case 'lockOrder': {
      const lock = await store.lockOrder(call.key, call.ttlMs)
      if (lock === undefined) return null
      const token = crypto.randomUUID()
      locks.set(token, lock)
      return token
    }
    case 'unlockOrder': {
      const lock = locks.get(call.token)
      locks.delete(call.token)
      return lock?.release()
    }
  }
}

/** In Node: a `BalanceStore` whose every call runs in the Worker at `url`, its keys under `prefix`. */
export function remoteStore(url: string, prefix: string): BalanceStore {
  const send = async <T>(call: StoreCall): Promise<T> => {
    const response = await fetch(`${url}/store`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(call) })
    if (response.status !== 200) throw new Error(`/store answered ${response.status} to ${call.method}: ${await response.text()}`)
    return ((await response.json()) as { answer: T }).answer
  }
  const k = (key: string) => `${prefix}${key}`
  return {
    reserve: (key, cost, now, ttlMs) => send({ method: 'reserve', key: k(key), cost, now, ttlMs: Number.isFinite(ttlMs) ? ttlMs : null }),
    release: async (key, id) => {
      await send({ method: 'release', key: k(key), id })
    },
    commit: (key, id, cost, served) => send({ method: 'commit', key: k(key), id, cost, served }),
    settle: async (key, amount, settlement) => {
      await send({ method: 'settle', key: k(key), amount, settlement })
    },
    observe: async (key, observation, startedAt, now) => {
      await send({ method: 'observe', key: k(key), observation, startedAt, now })
    },
    snapshot: (key) => send({ method: 'snapshot', key: k(key) }),
    recordOrder: (key, now, windowMs, max) => send({ method: 'recordOrder', key: k(key), now, windowMs, max }),
    async lockOrder(key, ttlMs) {
      const token = await send<string | null>({ method: 'lockOrder', key: k(key), ttlMs })
      if (token === null) return undefined
      return { release: () => send<void>({ method: 'unlockOrder', token }) }
    },
  }
}
