import { StoreUnavailableError, type BalanceStore } from '@plangate/core'
import { type CommitOutcome, type EntrySnapshot, type Observation, type OrderLock, type OutboxRecord, type ReserveOutcome, type Settlement, type SettlementOutbox } from '@plangate/core/store'
import { asText, Commands } from './commands'
import { resolveRedisStoreOptions, type RedisStoreOptions } from './options'
import { integers, one } from './replies'

/**
 * A `BalanceStore` on Redis: every process that uses it shares one truth about each holder's
 * credits (reserved, pending, the last balance read), one order lock and one spend guard per
 * holder and plan. Each method is one Lua script, so each is atomic across processes; all keys of
 * one holder and plan share a hash slot (`{plan:holder}`), so Redis Cluster works.
 *
 * When Redis is down, hangs, refuses or answers errors, every method rejects within `timeoutMs`
 * with a `StoreUnavailableError`: the request is answered 503 `STORE_UNAVAILABLE` and nothing is
 * served (unless `failOpen`). Service resumes as soon as Redis answers again.
 *
 * @example
 * // node-redis (`redis` v4 or v5)
 * import { createClient } from 'redis'
 * const client = createClient({ url: process.env.REDIS_URL })
 * client.on('error', (error) => console.error('redis:', error.message))
 * await client.connect()
 * const store = createRedisStore({ sendCommand: (...args) => client.sendCommand(args) })
 * const gate = createPlanGate({ store })
 *
 * @example
 * // ioredis (v5)
 * import { Redis } from 'ioredis'
 * const client = new Redis(process.env.REDIS_URL)
 * const store = createRedisStore({ sendCommand: (command, ...args) => client.call(command, ...args) })
 */
export function createRedisStore(options: RedisStoreOptions): RedisBalanceStore {
  return new RedisStore(options)
}

/**
 * A `BalanceStore` whose every method answers with a promise, and a settlement outbox: what a
 * process served and has not settled is in Redis, so another process settles it if that one dies.
 */
export interface RedisBalanceStore extends BalanceStore, SettlementOutbox {
  reserve(key: string, cost: number, now: number, ttlMs: number): Promise<ReserveOutcome>
  release(key: string, reservationId: string): Promise<void>
  commit(key: string, reservationId: string, cost: number, served?: number): Promise<CommitOutcome>
  settle(key: string, amount: number, settlement: Settlement): Promise<void>
  observe(key: string, observation: Observation, startedAt: EntrySnapshot, now: number): Promise<void>
  snapshot(key: string): Promise<EntrySnapshot>
  recordOrder(key: string, now: number, windowMs: number, max: number): Promise<boolean>
  lockOrder(key: string, ttlMs: number): Promise<OrderLock | undefined>
}

const EMPTY: EntrySnapshot = { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
/** What a commit answers while Redis fails open: nothing is known. */
const UNKNOWN_COMMIT: CommitOutcome = { late: false, shortfall: 0 }

class RedisStore implements RedisBalanceStore {
  readonly #commands: Commands
  readonly #prefix: string
  readonly #ttl: string
  readonly #failOpen: boolean
  readonly #leaseMs: string
  readonly ownerLeaseMs: number

  constructor(input: RedisStoreOptions) {
    const options = resolveRedisStoreOptions(input)
    this.#commands = new Commands(options.sendCommand, options.timeoutMs, options.onError)
    this.#prefix = options.prefix
    this.#ttl = String(options.entryTtlMs)
    this.#failOpen = options.failOpen
    this.#leaseMs = String(options.reservationLeaseMs)
    this.ownerLeaseMs = options.ownerLeaseMs
  }

  reserve(key: string, cost: number, now: number, ttlMs: number): Promise<ReserveOutcome> {
    return this.#reserve(key, cost, now, ttlMs, undefined)
  }

  reserveRecorded(key: string, cost: number, now: number, ttlMs: number, owner: string): Promise<ReserveOutcome> {
    return this.#reserve(key, cost, now, ttlMs, owner)
  }

  #reserve(key: string, cost: number, now: number, ttlMs: number, owner: string | undefined): Promise<ReserveOutcome> {
    const ttl = Number.isFinite(ttlMs) ? String(Math.max(0, Math.floor(ttlMs))) : '-1'
    const args = [owner ?? '', int(cost), int(now), ttl, this.#leaseMs, this.#ttl]
    const done = this.#commands.run('RESERVE', [this.#entry(key)], args, (reply): ReserveOutcome => {
      const [status, remaining, hasExpiry, expiresAt, reservationId] = reserveReply(reply)
      if (status === 1) return { ok: true, remaining, expiresAt: hasExpiry === 1 ? expiresAt : null, reservationId }
      if (status === 0) return { ok: false, reason: 'stale', remaining }
      if (status === -1) return { ok: false, reason: 'insufficient', remaining }
      throw new Error('the reservation reached Redis after its deadline')
    }, true)
    // Failing open: served with no balance check (see the option's warning), and nothing held.
    return this.#failOpen ? done.catch(ifUnavailable({ ok: true, remaining: 0, expiresAt: null, reservationId: '' })) : done
  }

  release(key: string, reservationId: string): Promise<void> {
    return this.#write('RELEASE', key, [reservationId, this.#ttl])
  }

  commit(key: string, reservationId: string, cost: number, served?: number): Promise<CommitOutcome> {
    const args = [reservationId, int(cost), this.#ttl]
    if (served !== undefined && served !== cost) args.push(int(served))
    const done = this.#commands.run('COMMIT', [this.#entry(key)], args, (reply): CommitOutcome => {
      const [late, shortfall] = integers<[number, number]>(reply, 2)
      return { late: late === 1, shortfall }
    })
    return this.#failOpen ? done.catch(ifUnavailable(UNKNOWN_COMMIT)) : done
  }

  settle(key: string, amount: number, settlement: Settlement): Promise<void> {
    const args = settlement.ok
      ? [int(amount), '1', int(settlement.remainingAfter), int(settlement.startedAt.epoch), int(settlement.startedAt.acked), this.#ttl]
      : [int(amount), '0', '0', '0', '0', this.#ttl]
    return this.#write('SETTLE', key, args)
  }

  observe(key: string, observation: Observation, startedAt: EntrySnapshot, now: number): Promise<void> {
    const total = observation.total === undefined ? '' : int(observation.total)
    const expiresAt = observation.expiresAt === null ? '' : int(observation.expiresAt)
    return this.#write('OBSERVE', key, [int(observation.remaining), total, expiresAt, int(startedAt.acked), int(now), this.#ttl, int(startedAt.epoch)])
  }

  snapshot(key: string): Promise<EntrySnapshot> {
    const done = this.#commands.run('SNAPSHOT', [this.#entry(key)], [this.#ttl], (reply): EntrySnapshot => {
      const [acked, epoch, upstream, hasTotal, total, hasExpiry, expiresAt, reserved, pending] = integers<[number, number, number, number, number, number, number, number, number]>(reply, 9)
      return { acked, epoch, upstream, total: hasTotal === 1 ? total : undefined, expiresAt: hasExpiry === 1 ? expiresAt : null, reserved, pending }
    })
    return this.#failOpen ? done.catch(ifUnavailable(EMPTY)) : done
  }

  recordOrder(key: string, now: number, windowMs: number, max: number): Promise<boolean> {
    const member = `${now}:${crypto.randomUUID()}`
    const done = this.#commands.run('RECORD_ORDER', [this.#entry(key, ':orders')], [int(now), int(windowMs), int(max), member], counted, true)
    // Never buy blind, open or not: an order Redis cannot count escapes the spend guard.
    return this.#failOpen ? done.catch(ifUnavailable(false)) : done
  }

  /**
   * `SET NX PX` with a random token (in a script: not while the last balance observed may predate
   * another process's order, see scripts.ts), released by a script that deletes it only if it is
   * still ours.
   */
  async lockOrder(key: string, ttlMs: number): Promise<OrderLock | undefined> {
    const lock = this.#entry(key, ':lock')
    const token = crypto.randomUUID()
    const px = String(Math.max(1, Math.ceil(ttlMs)))
    const done = this.#commands.run('LOCK', [lock, this.#entry(key)], [token, px], counted, true)
    const locked = this.#failOpen ? await done.catch(ifUnavailable(false)) : await done
    if (!locked) return undefined
    return {
      release: () => this.#commands.run('UNLOCK', [lock], [token], one).then(() => undefined),
    }
  }

  // The outbox (see outbox-scripts.ts). Failing open changes none of it: what was served is
  // recorded and settled, or the call fails and the gate says so.

  commitRecorded(
    key: string,
    reservationId: string,
    cost: number,
    owner: string,
    record: string | undefined,
    served?: number,
  ): Promise<CommitOutcome & { hasRecord: boolean }> {
    const keys = [this.#entry(key), this.#entry(key, ':outbox')]
    const args = [owner, reservationId, int(cost), this.#ttl, record ?? '']
    if (served !== undefined && served !== cost) args.push(int(served))
    return this.#commands.run('COMMIT_RECORDED', keys, args, (reply) => {
      const [hasRecord, late, shortfall] = integers<[number, number, number]>(reply, 3)
      return { hasRecord: hasRecord === 1, late: late === 1, shortfall }
    })
  }

  writeRecord(key: string, owner: string, record: string): Promise<void> {
    return this.#commands.run('WRITE_RECORD', [this.#entry(key, ':outbox')], [owner, record], one).then(() => undefined)
  }

  startRedemption(key: string, amount: number, owner: string): Promise<'started' | 'wait' | 'gone' | 'lost'> {
    const keys = [this.#entry(key), this.#entry(key, ':outbox'), this.#entry(key, ':lock')]
    return this.#commands.run('START_REDEMPTION', keys, [owner, int(amount)], (reply) => {
      const n = one(reply)
      return n === 1 ? 'started' : n === 0 ? 'wait' : n === -1 ? 'gone' : 'lost'
    })
  }

  settleRecorded(key: string, amount: number, settlement: Settlement, owner: string): Promise<boolean> {
    const args = settlement.ok
      ? [owner, int(amount), '1', int(settlement.remainingAfter), int(settlement.startedAt.epoch), int(settlement.startedAt.acked), this.#ttl]
      : [owner, int(amount), '0', '0', '0', '0', this.#ttl]
    return this.#commands.run('SETTLE_RECORDED', [this.#entry(key), this.#entry(key, ':outbox')], args, counted)
  }

  redemptionsInFlight(key: string): Promise<number> {
    return this.#commands.run('IN_FLIGHT', [this.#entry(key, ':outbox')], [], one)
  }

  indexKey(owner: string, key: string): Promise<void> {
    return this.#commands.run('INDEX_KEY', [this.#index(owner)], [key], one).then(() => undefined)
  }

  ownerKeys(owner: string): Promise<string[]> {
    return this.#commands.run('OWNER_KEYS', [this.#index(owner)], [], texts)
  }

  renewOwner(owner: string, _now: number): Promise<void> {
    return this.#commands.run('RENEW_OWNER', [this.#owners()], [owner, int(this.ownerLeaseMs)], one).then(() => undefined)
  }

  claimLapsedOwner(_now: number): Promise<string | undefined> {
    return this.#commands.run('CLAIM_OWNER', [this.#owners()], [int(this.ownerLeaseMs)], (reply) => texts(reply)[0])
  }

  readRecord(key: string, owner: string): Promise<OutboxRecord | undefined> {
    return this.#commands.run('READ_RECORD', [this.#entry(key, ':outbox'), this.#entry(key)], [owner], (reply): OutboxRecord | undefined => {
      if (!Array.isArray(reply) || reply.length !== 5) throw new Error('Redis answered READ_RECORD with something unexpected')
      const recorded = one(reply[0])
      const inFlight = one(reply[1])
      const record = asText(reply[3])
      const reserved = one(reply[4])
      if (recorded === 0 && inFlight === 0 && reserved === 0 && record === '') return undefined
      return { record, reserved, recorded, inFlight, baseline: baseline(asText(reply[2])) }
    })
  }

  adopt(key: string, from: string, to: string): Promise<number> {
    return this.#commands.run('ADOPT', [this.#entry(key, ':outbox'), this.#entry(key)], [from, to, this.#ttl], one)
  }

  async dropOwner(owner: string): Promise<void> {
    await this.#commands.run('DROP_INDEX', [this.#index(owner)], [], one)
    await this.#commands.run('FORGET_OWNER', [this.#owners()], [owner], one)
  }

  #owners(): string {
    return `${this.#prefix}outbox:owners`
  }

  #index(owner: string): string {
    return `${this.#prefix}outbox:keys:${owner}`
  }

  #write(script: 'RELEASE' | 'SETTLE' | 'OBSERVE', key: string, args: string[]): Promise<void> {
    const done = this.#commands.run(script, [this.#entry(key)], args, one).then(() => undefined)
    return this.#failOpen ? done.catch(ifUnavailable(undefined)) : done
  }

  /** `<prefix>{<plan>:<holder>}<suffix>`: the braces make every key of one holder and plan hash to one slot. */
  #entry(key: string, suffix = ''): string {
    return `${this.#prefix}{${key}}${suffix}`
  }
}

/** A safe integer as the decimal text Redis takes; anything else is a bug upstream of the store. */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new TypeError(`@plangate/redis: expected a safe integer, got ${String(n)}`)
  return String(n)
}

/** 1 yes, 0 no, -2 the command reached Redis after its deadline (the caller is told the store failed). */
function counted(reply: unknown): boolean {
  const n = one(reply)
  if (n === -2) throw new Error('the command reached Redis after its deadline')
  return n === 1
}

/** RESERVE's reply: four integers and the reservation's id. */
function reserveReply(reply: unknown): [number, number, number, number, string] {
  if (!Array.isArray(reply) || reply.length !== 5) throw new Error('Redis answered RESERVE with something unexpected')
  const [status, remaining, hasExpiry, expiresAt] = integers<[number, number, number, number]>(reply.slice(0, 4), 4)
  return [status, remaining, hasExpiry, expiresAt, asText(reply[4])]
}

function texts(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new Error('Redis answered something that is not a list')
  return reply.map(asText)
}

/** "upstream,acked,total" (total empty: unknown), as START_REDEMPTION writes it. */
function baseline(text: string): OutboxRecord['baseline'] {
  if (text === '') return undefined
  const [upstream, acked, total] = text.split(',')
  return { upstream: Number(upstream), acked: Number(acked), total: total === '' || total === undefined ? undefined : Number(total) }
}

function ifUnavailable<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof StoreUnavailableError) return fallback
    throw error
  }
}
