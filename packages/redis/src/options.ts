import { resolveReservationLeaseMs } from '@plangate/core/store'
import type { SendCommand } from './commands'

export interface RedisStoreOptions {
  /**
   * Sends one command to Redis and resolves with its reply; see `SendCommand` for node-redis and
   * ioredis. Required.
   */
  sendCommand: SendCommand
  /**
   * Put before every key. No braces: the store adds the hash tag itself. Default `'plangate:'`.
   * Give each deployment sharing one Redis its own.
   */
  prefix?: string
  /**
   * How long one store call may take before the request is denied 503 `STORE_UNAVAILABLE`
   * (ms, 1 to 60,000). Default 1000.
   */
  timeoutMs?: number
  /**
   * How long an entry holding no credits (nothing reserved or pending) stays after its last write,
   * (ms). Entries holding credits never expire. Default one day.
   */
  entryTtlMs?: number
  /**
   * Default `false`: when Redis fails, requests are denied 503 `STORE_UNAVAILABLE` and nothing is
   * served. `true` serves every request while Redis fails, with no balance check at all: credits
   * are still redeemed afterwards, but a holder with none gets the service for free, and nothing
   * stops a spender across processes. Only for an API where an outage costs more than that.
   */
  failOpen?: boolean
  /** Called with every `StoreUnavailableError` (its `cause` is the client's error), for logs and metrics. */
  onError?: (error: Error) => void
  /**
   * How long a gate's lease in the settlement outbox lasts without renewal (ms, 1,000 to
   * 3,600,000; renewed every third of it). When a process dies, another settles what it served
   * once this passes. Longer than any pause a live process may take (a long GC, a stopped
   * container): one that misses it finds its credits adopted and leaves them. Default 30,000.
   */
  ownerLeaseMs?: number
  /**
   * How long a reservation is held without its release or commit (ms, 1 to one week, timed by
   * Redis's clock): then its credits go back, so a release that never reached Redis (a blip, a
   * process killed mid-request) does not keep them from the holder. Longer than any request
   * lives: a commit after it still burns what was served. Default 600,000 (ten minutes).
   */
  reservationLeaseMs?: number
}

export interface ResolvedRedisStoreOptions {
  sendCommand: SendCommand
  prefix: string
  timeoutMs: number
  entryTtlMs: number
  failOpen: boolean
  onError: ((error: Error) => void) | undefined
  ownerLeaseMs: number
  reservationLeaseMs: number
}

const NAMES = ['sendCommand', 'prefix', 'timeoutMs', 'entryTtlMs', 'failOpen', 'onError', 'ownerLeaseMs', 'reservationLeaseMs']

/** Checks the options once, at creation: a wrong one throws a `TypeError` naming it. */
export function resolveRedisStoreOptions(input: unknown): ResolvedRedisStoreOptions {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError('@plangate/redis: createRedisStore needs an options object with sendCommand.')
  }
  for (const name of Object.keys(input)) {
    if (!NAMES.includes(name)) throw new TypeError(`@plangate/redis: unknown option "${name}"; the options are ${NAMES.join(', ')}.`)
  }
  const o = input as Partial<RedisStoreOptions>
  if (typeof o.sendCommand !== 'function') {
    throw new TypeError('@plangate/redis: option "sendCommand" must be a function (...args: string[]) => Promise<reply>, e.g. (...args) => client.sendCommand(args).')
  }
  const prefix = o.prefix ?? 'plangate:'
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TypeError('@plangate/redis: option "prefix" must be a string without "{" or "}" (the store adds the hash tag).')
  }
  const timeoutMs = o.timeoutMs ?? 1_000
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new TypeError('@plangate/redis: option "timeoutMs" must be an integer from 1 to 60000.')
  }
  const entryTtlMs = o.entryTtlMs ?? 86_400_000
  if (!Number.isSafeInteger(entryTtlMs) || entryTtlMs < 1_000) {
    throw new TypeError('@plangate/redis: option "entryTtlMs" must be an integer of at least 1000.')
  }
  if (o.failOpen !== undefined && typeof o.failOpen !== 'boolean') {
    throw new TypeError('@plangate/redis: option "failOpen" must be true or false.')
  }
  if (o.onError !== undefined && typeof o.onError !== 'function') {
    throw new TypeError('@plangate/redis: option "onError" must be a function.')
  }
  const ownerLeaseMs = o.ownerLeaseMs ?? 30_000
  if (!Number.isSafeInteger(ownerLeaseMs) || ownerLeaseMs < 1_000 || ownerLeaseMs > 3_600_000) {
    throw new TypeError('@plangate/redis: option "ownerLeaseMs" must be an integer from 1000 to 3600000.')
  }
  const reservationLeaseMs = resolveReservationLeaseMs(o.reservationLeaseMs, '@plangate/redis')
  return { sendCommand: o.sendCommand, prefix, timeoutMs, entryTtlMs, failOpen: o.failOpen ?? false, onError: o.onError, ownerLeaseMs, reservationLeaseMs }
}
