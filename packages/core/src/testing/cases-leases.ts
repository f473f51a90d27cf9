/**
 * Reservation leases (leases.ts), on a clock the contract moves: no sleeping, so nothing here
 * depends on how loaded the machine is. Only for stores made with `createWithClock`.
 */
import { same } from './check'
import { EMPTY, entry, granted, hold, K, obs, T0, TTL, withoutId, type ContractCase } from './case'

export const LEASE_CASES: ContractCase[] = [
  {
    name: 'lease: a reservation whose release never comes is held until its lease ends, then its credits come back',
    needs: 'clock',
    async run(s, { clock, leaseMs }) {
      await s.observe(K, obs(5), EMPTY, T0)
      await hold(s, 3)
      clock.advance(leaseMs - 1)
      same(await s.reserve(K, 3, T0, TTL), { ok: false, reason: 'insufficient', remaining: 2 }, 'reserve 1 ms before the lease ends')
      same(await s.snapshot(K), entry({ upstream: 5, total: 5, epoch: 1, reserved: 3 }), 'snapshot 1 ms before the lease ends')
      clock.advance(1)
      same(await s.snapshot(K), entry({ upstream: 5, total: 5, epoch: 1 }), 'snapshot when the lease ends')
      same(withoutId(await s.reserve(K, 5, T0, TTL)), granted(0), 'reserve all 5 after it')
    },
  },
  {
    name: 'lease: each ends on its own; a release after it ended, or twice, gives nothing more back',
    needs: 'clock',
    async run(s, { clock, leaseMs }) {
      await s.observe(K, obs(10), EMPTY, T0)
      const first = await hold(s, 2)
      clock.advance(1_000)
      const later = await hold(s, 3)
      clock.advance(leaseMs - 1_000)
      same((await s.snapshot(K)).reserved, 3, 'reserved once the first lease ended')
      const again = await hold(s, 4) // the credits the first gave back, handed out again
      await s.release(K, first)
      same((await s.snapshot(K)).reserved, 7, 'reserved after a release of the ended one')
      clock.advance(1_000)
      await s.release(K, later)
      await s.release(K, again)
      await s.release(K, again)
      same(await s.snapshot(K), entry({ upstream: 10, total: 10, epoch: 1 }), 'snapshot after every release')
      same(await s.reserve(K, 11, T0, TTL), { ok: false, reason: 'insufficient', remaining: 10 }, 'nothing given back twice')
    },
  },
  {
    name: 'lease: a commit after it ended still burns what was served, taken from what is available, never below 0',
    needs: 'clock',
    async run(s, { clock, leaseMs }) {
      await s.observe(K, obs(5), EMPTY, T0)
      const id = await hold(s, 3)
      clock.advance(leaseMs + 1_000)
      await hold(s, 4)
      same(await s.commit(K, id, 3), { late: true, shortfall: 2 }, 'commit of 3 after its lease, 1 available')
      same(await s.snapshot(K), entry({ upstream: 5, total: 5, epoch: 1, reserved: 4, pending: 3 }), 'snapshot after it')
      same(await s.reserve(K, 1, T0, TTL), { ok: false, reason: 'insufficient', remaining: 0 }, 'reserve after it')
      const served = await hold(s, 0)
      same(served, '', 'a cost of 0 holds nothing')
    },
  },
  {
    name: 'lease: a commit on time, just before the lease ends, is not late',
    needs: 'clock',
    async run(s, { clock, leaseMs }) {
      await s.observe(K, obs(5), EMPTY, T0)
      const id = await hold(s, 3)
      clock.advance(leaseMs - 1)
      same(await s.commit(K, id, 3, 2), { late: false, shortfall: 0 }, 'commit 1 ms before the lease ends')
      clock.advance(leaseMs * 2)
      same(await s.snapshot(K), entry({ upstream: 5, total: 5, epoch: 1, pending: 2 }), 'pending is not leased: it stays until settled')
    },
  },
]
