/**
 * The contract for `settle`, `observe`, `snapshot`, `recordOrder` and `lockOrder`, as
 * MemoryBalanceStore answers them (entry-steps.ts).
 */
import { holds, same } from './check'
import { EMPTY, entry, hold, K, obs, OTHER, T0, TTL, withoutId, granted, type ContractCase } from './case'

export const SETTLE_CASES: ContractCase[] = [
  {
    name: 'settle ok, same epoch: upstream is the answer, less the redemptions acknowledged since it started',
    async run(s) {
      await s.observe(K, obs(10), EMPTY, T0)
      await s.commit(K, await hold(s, 5), 5)
      const first = await s.snapshot(K) // a redemption of 3 starts
      const second = await s.snapshot(K) // one of 2 starts
      await s.settle(K, 2, { ok: true, remainingAfter: 8, startedAt: second })
      same(await s.snapshot(K), entry({ upstream: 8, total: 10, epoch: 1, pending: 3, acked: 2 }), 'snapshot after the 2 answered 8')
      // Its answer (7 = 10 − 3) did not hold the 2: 7 − 2 = 5.
      await s.settle(K, 3, { ok: true, remainingAfter: 7, startedAt: first })
      same(await s.snapshot(K), entry({ upstream: 5, total: 10, epoch: 1, acked: 5 }), 'snapshot after the 3 answered 7')
      same(withoutId(await s.reserve(K, 5, T0, TTL)), granted(0), 'reserve the 5 left')
    },
  },
  {
    name: 'settle ok, same epoch: a balance spent or bought elsewhere is taken from the answer',
    async run(s) {
      await s.observe(K, obs(10), EMPTY, T0)
      await s.commit(K, await hold(s, 2), 2)
      await s.settle(K, 2, { ok: true, remainingAfter: 5, startedAt: await s.snapshot(K) })
      same((await s.snapshot(K)).upstream, 5, 'upstream after 3 were burned elsewhere')
      await s.commit(K, await hold(s, 1), 1)
      await s.settle(K, 1, { ok: true, remainingAfter: 9, startedAt: await s.snapshot(K) })
      same((await s.snapshot(K)).upstream, 9, 'upstream after a top-up')
    },
  },
  {
    name: 'settle ok, epoch changed (a read raced it): an answer below the read takes the amount off, one at or above it does not',
    async run(s) {
      await s.observe(K, obs(10), EMPTY, T0)
      await s.commit(K, await hold(s, 2), 2)
      const started = await s.snapshot(K)
      // A read after an order of 2 more landed, that did not hold the burn: its answer is below it.
      await s.observe(K, obs(12), await s.snapshot(K), T0 + 1)
      await s.settle(K, 2, { ok: true, remainingAfter: 10, startedAt: started })
      same(await s.snapshot(K), entry({ upstream: 10, total: 12, epoch: 2, acked: 2 }), 'snapshot: the burn came after the read')
      await s.commit(K, await hold(s, 3), 3)
      const again = await s.snapshot(K)
      // A read that held the burn already: the answer equals what it read.
      await s.observe(K, obs(7, 12), await s.snapshot(K), T0 + 2)
      await s.settle(K, 3, { ok: true, remainingAfter: 7, startedAt: again })
      same(await s.snapshot(K), entry({ upstream: 7, total: 12, epoch: 3, acked: 5 }), 'snapshot: the burn was in the read')
    },
  },
  {
    name: 'settle failed: counted as spent, and the entry must be read again (stale whatever the ttl)',
    async run(s) {
      await s.observe(K, obs(10), EMPTY, T0)
      await s.commit(K, await hold(s, 3), 3)
      await s.settle(K, 3, { ok: false })
      same(await s.snapshot(K), entry({ upstream: 7, total: 10, epoch: 1, acked: 3 }), 'snapshot after the failure')
      same(await s.reserve(K, 1, T0 + 1, Infinity), { ok: false, reason: 'stale', remaining: 7 }, 'reserve after it')
      await s.observe(K, obs(7), await s.snapshot(K), T0 + 2)
      same(withoutId(await s.reserve(K, 1, T0 + 2, TTL)), granted(6), 'reserve after the next read')
    },
  },
  {
    name: 'observe: a read that raced a redemption acknowledged meanwhile is lowered by it; one whose answer shows it burned first is not',
    async run(s) {
      await s.observe(K, obs(10), EMPTY, T0)
      await s.commit(K, await hold(s, 2), 2)
      const readStarted = await s.snapshot(K)
      await s.settle(K, 2, { ok: true, remainingAfter: 8, startedAt: await s.snapshot(K) })
      // The read says 10: it was taken before the burn landed upstream.
      await s.observe(K, obs(10), readStarted, T0 + 5)
      same(await s.snapshot(K), entry({ upstream: 8, total: 10, epoch: 2, acked: 2 }), 'snapshot: a read of 10 that raced a burn to 8')
      await s.commit(K, await hold(s, 1), 1)
      const second = await s.snapshot(K)
      await s.settle(K, 1, { ok: true, remainingAfter: 7, startedAt: await s.snapshot(K) })
      // The read says 7, as the burn's answer did: the burn is in it, not taken off twice.
      await s.observe(K, obs(7, 10), second, T0 + 6)
      same(await s.snapshot(K), entry({ upstream: 7, total: 10, epoch: 3, acked: 3 }), 'snapshot: a read of 7 after a burn to 7')
    },
  },
  {
    name: 'observe: creates the entry, bumps the epoch, replaces total and expiry; snapshot is what reserve and commit left',
    async run(s) {
      await s.observe(K, obs(4, 20, T0 + 1_000_000), EMPTY, T0)
      same(await s.snapshot(K), entry({ upstream: 4, total: 20, expiresAt: T0 + 1_000_000, epoch: 1 }), 'snapshot after the first read')
      const id = await hold(s, 3)
      await s.commit(K, id, 3, 1)
      await hold(s, 2)
      await s.observe(K, obs(30, 40), await s.snapshot(K), T0 + 10)
      same(await s.snapshot(K), entry({ upstream: 30, total: 40, epoch: 2, reserved: 2, pending: 1 }), 'snapshot after the second read')
      same(await s.reserve(K, 28, T0 + 10, TTL), { ok: false, reason: 'insufficient', remaining: 27 }, 'available after it')
      same(await s.snapshot(OTHER), EMPTY, 'another key, never observed')
    },
  },
  {
    name: 'recordOrder: at most max orders within windowMs, a sliding window, per key',
    async run(s) {
      same(await s.recordOrder(K, T0, 1_000, 2), true, 'first order')
      same(await s.recordOrder(K, T0 + 10, 1_000, 2), true, 'second order')
      same(await s.recordOrder(K, T0 + 20, 1_000, 2), false, 'third, within the window')
      same(await s.recordOrder(K, T0 + 999, 1_000, 2), false, 'third, the last ms of the window')
      same(await s.recordOrder(K, T0 + 1_000, 1_000, 2), true, 'the first 1000 ms old: out of the window')
      same(await s.recordOrder(K, T0 + 1_005, 1_000, 2), false, 'full again')
      same(await s.recordOrder(K, T0 + 1_010, 1_000, 2), true, 'the second out')
      same(await s.recordOrder(K, T0 + 1_010, 1_000, 3), true, 'a larger max: room for a third')
      same(await s.recordOrder(K, T0 + 1_011, 1_000, 3), false, 'and no fourth')
      same(await s.recordOrder(OTHER, T0 + 1_011, 1_000, 1), true, 'another key has its own count')
    },
  },
  {
    name: 'lockOrder: a lock is granted, and released by its holder',
    async run(s) {
      const lock = await s.lockOrder(K, 5_000)
      holds(lock !== undefined, 'lockOrder on a key nobody holds: expected a lock')
      await lock!.release()
      const again = await s.lockOrder(K, 5_000)
      holds(again !== undefined, 'lockOrder after its release: expected a lock')
      await again!.release()
    },
  },
  {
    name: 'lockOrder (a shared store): one holder at a time per key; released, it can be taken again',
    needs: 'exclusive-lock',
    compared: false,
    async run(_s, { direct }) {
      const first = await direct.lockOrder(K, 60_000)
      holds(first !== undefined, 'lockOrder on a key nobody holds: expected a lock')
      holds((await direct.lockOrder(K, 60_000)) === undefined, 'lockOrder while it is held: expected none')
      const other = await direct.lockOrder(OTHER, 60_000)
      holds(other !== undefined, 'lockOrder on another key: expected a lock')
      await first!.release()
      const second = await direct.lockOrder(K, 60_000)
      holds(second !== undefined, 'lockOrder after its release: expected a lock')
      await second!.release()
      await other!.release()
    },
  },
]
