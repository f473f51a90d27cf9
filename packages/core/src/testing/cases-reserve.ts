/**
 * The contract for `reserve`, `release` and `commit`: what each answers and what it leaves in
 * the entry, as MemoryBalanceStore does (entry-steps.ts).
 */
import { same } from './check'
import { EMPTY, entry, granted, hold, K, obs, OTHER, T0, TTL, withoutId, type ContractCase } from './case'

export const RESERVE_CASES: ContractCase[] = [
  {
    name: 'reserve: an entry never observed is stale with 0 left; release, commit and settle on it change nothing',
    async run(s) {
      same(await s.snapshot(K), EMPTY, 'snapshot before anything')
      same(await s.reserve(K, 1, T0, TTL), { ok: false, reason: 'stale', remaining: 0 }, 'reserve before any observation')
      await s.release(K, 'none')
      same(await s.commit(K, 'none', 1), { late: true, shortfall: 0 }, 'commit of a reservation never granted, on no entry')
      same(await s.commit(K, 'none', 1, 0), { late: false, shortfall: 0 }, 'commit of nothing served, on no entry')
      await s.settle(K, 1, { ok: false })
      same(await s.snapshot(K), EMPTY, 'snapshot after them')
    },
  },
  {
    name: 'reserve: fresh and enough takes the cost off; exactly what is left fits; insufficient changes nothing',
    async run(s) {
      await s.observe(K, obs(10), EMPTY, T0)
      same(await s.snapshot(K), entry({ upstream: 10, total: 10, epoch: 1 }), 'snapshot after the observation')
      same(withoutId(await s.reserve(K, 3, T0 + 5, TTL)), granted(7), 'reserve 3 of 10')
      same(await s.reserve(K, 8, T0 + 6, TTL), { ok: false, reason: 'insufficient', remaining: 7 }, 'reserve 8 of 7')
      same(await s.snapshot(K), entry({ upstream: 10, total: 10, epoch: 1, reserved: 3 }), 'snapshot after a refusal')
      same(withoutId(await s.reserve(K, 7, T0 + 7, TTL)), granted(0), 'reserve all 7 left')
      same(await s.reserve(K, 1, T0 + 8, TTL), { ok: false, reason: 'insufficient', remaining: 0 }, 'reserve 1 of 0')
      same(await s.snapshot(K), entry({ upstream: 10, total: 10, epoch: 1, reserved: 10 }), 'snapshot with all reserved')
    },
  },
  {
    name: 'reserve: a cost of 0 fits a fresh entry even at 0 credits, and holds nothing (empty id)',
    async run(s) {
      await s.observe(K, obs(0), EMPTY, T0)
      same(await s.reserve(K, 0, T0, TTL), { ok: true, remaining: 0, expiresAt: null, reservationId: '' }, 'reserve 0 of 0')
      await s.observe(OTHER, obs(4), EMPTY, T0)
      same(await s.reserve(OTHER, 0, T0, TTL), { ok: true, remaining: 4, expiresAt: null, reservationId: '' }, 'reserve 0 of 4')
      same(await s.snapshot(OTHER), entry({ upstream: 4, total: 4, epoch: 1 }), 'snapshot: nothing reserved')
    },
  },
  {
    name: 'reserve: stale once older than ttlMs (not at exactly ttlMs), saying what is known; Infinity never is; ttl 0 needs the same millisecond',
    async run(s) {
      await s.observe(K, obs(4), EMPTY, T0)
      same(withoutId(await s.reserve(K, 1, T0 + TTL, TTL)), granted(3), 'reserve exactly ttlMs after the read')
      same(await s.reserve(K, 1, T0 + TTL + 1, TTL), { ok: false, reason: 'stale', remaining: 3 }, 'reserve 1 ms later')
      same(withoutId(await s.reserve(K, 1, T0 + 10 ** 9, Infinity)), granted(2), 'reserve with ttlMs Infinity, long after')
      same(withoutId(await s.reserve(K, 1, T0, 0)), granted(1), 'reserve with ttlMs 0, the same millisecond')
      same(await s.reserve(K, 1, T0 + 1, 0), { ok: false, reason: 'stale', remaining: 1 }, 'reserve with ttlMs 0, 1 ms later')
      same((await s.snapshot(K)).reserved, 3, 'reserved after the stale refusals')
    },
  },
  {
    name: 'reserve: credits count until expiresAt, then none; the answer carries the expiry; a later observation replaces it',
    async run(s) {
      await s.observe(K, obs(5, 5, T0 + 100), EMPTY, T0)
      same(withoutId(await s.reserve(K, 2, T0 + 99, TTL)), granted(3, T0 + 100), 'reserve 1 ms before expiry')
      same(await s.reserve(K, 1, T0 + 100, TTL), { ok: false, reason: 'insufficient', remaining: 0 }, 'reserve at expiry')
      same(await s.reserve(K, 0, T0 + 100, TTL), { ok: true, remaining: 0, expiresAt: T0 + 100, reservationId: '' }, 'reserve 0 at expiry')
      same(await s.snapshot(K), entry({ upstream: 5, total: 5, expiresAt: T0 + 100, epoch: 1, reserved: 2 }), 'snapshot at expiry')
      await s.observe(K, { remaining: 9, total: undefined, expiresAt: null }, await s.snapshot(K), T0 + 200)
      same(await s.snapshot(K), entry({ upstream: 9, epoch: 2, reserved: 2 }), 'snapshot after an order landed: no expiry, total unknown')
      same(withoutId(await s.reserve(K, 7, T0 + 201, TTL)), granted(0), 'reserve what the order left')
    },
  },
  {
    name: 'reserve: keys are independent',
    async run(s) {
      await s.observe(K, obs(3), EMPTY, T0)
      same(await s.reserve(OTHER, 1, T0, TTL), { ok: false, reason: 'stale', remaining: 0 }, 'the other key, never observed')
      await s.observe(OTHER, obs(1), EMPTY, T0)
      await hold(s, 1, OTHER)
      same(await s.snapshot(K), entry({ upstream: 3, total: 3, epoch: 1 }), 'the first key, untouched')
      same(await s.snapshot(OTHER), entry({ upstream: 1, total: 1, epoch: 1, reserved: 1 }), 'the other key')
    },
  },
  {
    name: 'release gives a reservation back once: twice, or after its commit, gives nothing more back',
    async run(s) {
      await s.observe(K, obs(10), EMPTY, T0)
      const four = await hold(s, 4)
      const three = await hold(s, 3)
      same(await s.commit(K, four, 4), { late: false, shortfall: 0 }, 'commit of 4 on time')
      await s.release(K, three)
      await s.release(K, three)
      await s.release(K, four)
      await s.release(K, 'never-granted')
      same(await s.snapshot(K), entry({ upstream: 10, total: 10, epoch: 1, pending: 4 }), 'snapshot after the releases')
      same(await s.reserve(K, 7, T0, TTL), { ok: false, reason: 'insufficient', remaining: 6 }, 'available = upstream − reserved − pending')
      same(withoutId(await s.reserve(K, 6, T0, TTL)), granted(0), 'reserve the 6 left')
    },
  },
  {
    name: 'commit on time: the served part moves to pending (still not available), the rest back, in one step',
    async run(s) {
      await s.observe(K, obs(10), EMPTY, T0)
      const five = await hold(s, 5)
      await hold(s, 1)
      same(await s.commit(K, five, 5, 2), { late: false, shortfall: 0 }, 'commit 2 of 5')
      same(await s.snapshot(K), entry({ upstream: 10, total: 10, epoch: 1, reserved: 1, pending: 2 }), 'snapshot after it')
      const two = await hold(s, 2)
      same(await s.commit(K, two, 2, 0), { late: false, shortfall: 0 }, 'commit of nothing served')
      same(await s.snapshot(K), entry({ upstream: 10, total: 10, epoch: 1, reserved: 1, pending: 2 }), 'snapshot: all of it back')
      same(await s.reserve(K, 8, T0, TTL), { ok: false, reason: 'insufficient', remaining: 7 }, 'available after them')
    },
  },
  {
    name: 'commit late (reservation released, or never granted): served becomes pending, taken from what is available, the lack is the shortfall',
    async run(s) {
      await s.observe(K, obs(5), EMPTY, T0)
      const id = await hold(s, 3)
      await s.release(K, id)
      same(await s.commit(K, id, 3), { late: true, shortfall: 0 }, 'commit after its release, 5 available')
      same(await s.snapshot(K), entry({ upstream: 5, total: 5, epoch: 1, pending: 3 }), 'snapshot: served is pending')
      await hold(s, 1)
      same(await s.commit(K, 'never-granted', 3, 3), { late: true, shortfall: 2 }, 'commit of 3 with 1 available')
      same(await s.reserve(K, 1, T0, TTL), { ok: false, reason: 'insufficient', remaining: 0 }, 'available never below 0')
      same(await s.snapshot(K), entry({ upstream: 5, total: 5, epoch: 1, reserved: 1, pending: 6 }), 'snapshot after the shortfall')
      same(await s.commit(K, 'none', 2, 0), { late: false, shortfall: 0 }, 'a late commit of nothing served')
    },
  },
  {
    name: 'integers of 16 digits come back exactly',
    async run(s) {
      // Not MAX_SAFE_INTEGER itself: node-redis 5 decodes integer replies within ~60 of it one off.
      const big = 9_007_199_254_000_001
      const far = 8_640_000_000_000_000
      await s.observe(K, obs(big, big, far), EMPTY, T0)
      same(await s.snapshot(K), entry({ upstream: big, total: big, expiresAt: far, epoch: 1 }), 'snapshot of a 16-digit balance')
      same(withoutId(await s.reserve(K, 1, T0, TTL)), granted(big - 1, far), 'reserve 1 of it')
    },
  },
  {
    name: 'reserve is atomic: concurrent reserves of one entry hand out each credit once',
    compared: false,
    async run(_s, { direct }) {
      await direct.observe(K, obs(7), EMPTY, T0)
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => direct.reserve(K, 1, T0, TTL)))
      const taken = outcomes.filter((o) => o.ok)
      same(taken.length, 7, 'reserves granted of 20 concurrent, with 7 credits')
      same(new Set(taken.map((o) => (o.ok ? o.reservationId : ''))).size, 7, 'distinct reservation ids')
      same(taken.map((o) => o.remaining).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6], 'what each grant said was left')
      same(await direct.snapshot(K), entry({ upstream: 7, total: 7, epoch: 1, reserved: 7 }), 'snapshot after them')
    },
  },
]
