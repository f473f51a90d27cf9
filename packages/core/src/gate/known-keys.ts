import { LRUCache } from 'lru-cache'
import { CredentialInvalidError, PlanGateError } from '../errors'
import type { ResolvedGateConfig } from '../options'
import { safely } from '../util/safely'
import { asError, describe } from './books'
import type { Caller } from './caller'

/** A key (or x402 token) the API has accepted: looked up by its SHA-256, never by the value. */
export interface KnownKey {
  address: string
  /** When the API last accepted it (ms): trusted for `cache.ttlMs`, so a revoked key stops working. */
  acceptedAt: number
  /** The plan it was last used for, and the store's key `<plan>:<address>` for it (see storeKeyOf). */
  plan?: string
  storeKey?: string
  /** The last expiry a lease of it carried, and that as ISO text (see expiryText). */
  expiresAt?: number
  expiresText?: string
  /** For an x402 token: the one plan it pays for. */
  tokenPlan?: string
}

/**
 * The store's key for a known holder and plan, made once and kept: looking the same string up
 * again is cheaper than a new one (its hash is computed once, and equality is identity).
 */
export function storeKeyOf(known: KnownKey, plan: string): string {
  if (known.plan !== plan || known.storeKey === undefined) {
    known.plan = plan
    known.storeKey = `${plan}:${known.address}`
  }
  return known.storeKey
}


/**
 * A lease's expiry as ISO text. Kept with the known key and made again only when the expiry
 * changes (an order): toISOString() costs about 0.8 µs, more than the rest of a warm reservation,
 * and a plan with a duration would pay it on every request.
 */
export function expiryText(at: number | null, known: KnownKey | undefined): string | null {
  if (at === null) return null
  if (known === undefined) return new Date(at).toISOString()
  // Both fields are written together, so a matching expiry means the text is there.
  if (known.expiresAt !== at) {
    known.expiresAt = at
    known.expiresText = new Date(at).toISOString()
  }
  return known.expiresText!
}


/**
 * The keys and x402 tokens the API has accepted, by fingerprint: what lets a warm request spend
 * cached credits without asking the API. Learns from the upstream calls made for requests.
 */
export class KnownKeys {
  readonly #config: ResolvedGateConfig
  readonly #keys: LRUCache<string, KnownKey>

  constructor(config: ResolvedGateConfig) {
    this.#config = config
    // No lru-cache ttl: get() checks acceptedAt against the Date.now() the request reads anyway.
    this.#keys = new LRUCache({ max: config.cache.max })
  }

  /** The accepted key with this fingerprint, if the API accepted it within `cache.ttlMs`. */
  get(fingerprint: string, now: number): KnownKey | undefined {
    const known = this.#keys.get(fingerprint)
    return known !== undefined && now - known.acceptedAt <= Math.max(this.#config.cache.ttlMs, 1) ? known : undefined
  }

  /** A key or token the API refused: it is checked upstream again next time. */
  forget(fingerprint: string): void {
    this.#keys.delete(fingerprint)
  }

  /** Runs an upstream call for a request; notes keys the API accepted, forgets ones it refused. */
  async upstream<T>(during: 'order' | 'balance' | 'verify', who: Caller, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call()
      // The store's key string too, the very one the store was given: one string per holder. Every
      // field is present from the start, so V8 keeps them all inside the object (fields added
      // later cost each holder an extra array, about 24 bytes).
      // A token is known only once verify accepted it, not because a read with the agent's key worked.
      if (who.payer.kind === 'key' || isVerified(result)) {
        const known: KnownKey = {
          address: who.address,
          acceptedAt: Date.now(),
          plan: who.plan,
          storeKey: who.key,
          expiresAt: undefined,
          expiresText: undefined,
          tokenPlan: who.payer.kind === 'x402' ? who.plan : undefined,
        }
        this.#keys.set(who.fingerprint, known)
      }
      return result
    } catch (error) {
      if (error instanceof CredentialInvalidError) this.#keys.delete(who.fingerprint)
      if (!(error instanceof PlanGateError) || error.status >= 500) {
        this.#config.logger.warn(`${during} for plan ${who.plan}, holder ${who.address} failed: ${describe(error)}`)
        safely(() => this.#config.hooks.onError?.(asError(error), { during, planId: who.plan, holderAddress: who.address }))
      }
      throw error
    }
  }
}

function isVerified(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { valid?: unknown }).valid === true
}
