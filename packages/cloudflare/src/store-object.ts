import { DEFAULT_RESERVATION_LEASE_MS, type CommitOutcome, type EntrySnapshot, type Observation, type ReserveOutcome, type Settlement } from '@plangate/core/store'
import { DurableObject } from 'cloudflare:workers'
import * as steps from './steps'
import type { HolderState } from './steps'

/**
 * The Durable Object behind `createDurableObjectStore`: one object per holder and plan (named by
 * the store key `<plan>:<holder>`), holding that pair's balance entry, spend guard and order lock.
 * Each `BalanceStore` method is one RPC method here. Cloudflare runs one object in one place and
 * delivers its calls one at a time; once a key's record is loaded, every step below runs without
 * awaiting anything, so it is atomic for every Worker isolate calling it, worldwide.
 *
 * The record is written to the object's storage (the key-value API, on SQLite-backed and classic
 * objects alike) before the call answers: Cloudflare holds a Durable Object's answers until its
 * writes are durable, so an evicted or restarted object starts again from what it last said.
 *
 * Export it from your Worker's main module and bind it (see docs/DEPLOY.md):
 *
 * @example
 * // worker.ts
 * export { PlanGateStore } from '@plangate/cloudflare'
 * // wrangler.toml
 * // [[durable_objects.bindings]]
 * // name = "PLANGATE_STORE"
 * // class_name = "PlanGateStore"
 */
export class PlanGateStore extends DurableObject {
  /** Records loaded from storage (one, unless a caller maps several keys onto one object). */
  readonly #states = new Map<string, HolderState>()
  readonly #loading = new Map<string, Promise<HolderState>>()

  /**
   * `id` names the reservation (for `release`, `commit`, and `cancelReservation`, sent when the
   * answer does not arrive); it is held for `leaseMs` of this object's clock at most.
   */
  async reserve(key: string, cost: number, now: number, ttlMs: number, id: string, leaseMs = DEFAULT_RESERVATION_LEASE_MS): Promise<ReserveOutcome> {
    const state = await this.#state(key)
    const { cancelled } = state
    const swept = steps.sweep(state, Date.now())
    const outcome = steps.reserve(state, cost, now, ttlMs, id, leaseMs, Date.now())
    if (outcome.ok || swept || state.cancelled !== cancelled) await this.#save(key, state)
    return outcome
  }

  async cancelReservation(key: string, id: string): Promise<void> {
    const state = await this.#state(key)
    steps.cancelReservation(state, id, Date.now())
    await this.#save(key, state)
  }

  async release(key: string, id: string): Promise<void> {
    const state = await this.#state(key)
    steps.release(state, id, Date.now())
    await this.#save(key, state)
  }

  async commit(key: string, id: string, cost: number, served?: number): Promise<CommitOutcome> {
    const state = await this.#state(key)
    const outcome = steps.commit(state, id, cost, served, Date.now())
    await this.#save(key, state)
    return outcome
  }

  async settle(key: string, amount: number, settlement: Settlement): Promise<void> {
    const state = await this.#state(key)
    steps.settle(state, amount, settlement, Date.now())
    await this.#save(key, state)
  }

  async observe(key: string, observation: Observation, startedAt: EntrySnapshot, now: number): Promise<void> {
    const state = await this.#state(key)
    steps.observe(state, observation, startedAt, now, Date.now())
    await this.#save(key, state)
  }

  async snapshot(key: string): Promise<EntrySnapshot> {
    const state = await this.#state(key)
    if (steps.sweep(state, Date.now())) await this.#save(key, state)
    return steps.snapshot(state)
  }

  async recordOrder(key: string, now: number, windowMs: number, max: number): Promise<boolean> {
    const state = await this.#state(key)
    const counted = steps.recordOrder(state, now, windowMs, max)
    await this.#save(key, state)
    return counted
  }

  /** The lock's token, or null while another caller holds it. Timed by this object's clock. */
  async lockOrder(key: string, ttlMs: number): Promise<string | null> {
    const state = await this.#state(key)
    const token = steps.lockOrder(state, ttlMs, Date.now(), crypto.randomUUID())
    if (token === undefined) return null
    await this.#save(key, state)
    return token
  }

  async unlockOrder(key: string, token: string): Promise<void> {
    const state = await this.#state(key)
    steps.unlockOrder(state, token)
    await this.#save(key, state)
  }

  /** The key's record: from memory, else loaded once from storage however many calls wait for it. */
  #state(key: string): HolderState | Promise<HolderState> {
    const known = this.#states.get(key)
    if (known !== undefined) return known
    let loading = this.#loading.get(key)
    if (loading === undefined) {
      loading = this.ctx.storage
        .get<Partial<HolderState>>(storageKey(key))
        .then((stored) => {
          const state = steps.loaded(stored)
          this.#states.set(key, state)
          return state
        })
        .finally(() => this.#loading.delete(key))
      this.#loading.set(key, loading)
    }
    return loading
  }

  #save(key: string, state: HolderState): Promise<void> {
    return this.ctx.storage.put(storageKey(key), state)
  }
}

function storageKey(key: string): string {
  return `holder:${key}`
}
