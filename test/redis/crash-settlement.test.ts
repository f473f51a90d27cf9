/**
 * Crash-safe settlement: real Express processes (test/redis/agent.ts) on one real redis-server,
 * killed with SIGKILL while credits they served are gathered for a batch, or while a settle of
 * theirs is in flight. What they served is in Redis (the outbox), so a surviving process, or one
 * started afterwards, settles it, once: judged by the local ledger (served over HTTP by this
 * process), Σ settled = Σ cost of the 2xx answers, exactly, and every holder's balance agrees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { burst, crashWorld, expectExact, sum, until, type CrashWorld } from './crash-world'

const TIMEOUT = 120_000
const LEASE_MS = 1_500
const lease = (batchMs: number) => ({ batchMs, leaseMs: LEASE_MS })

let world: CrashWorld

beforeAll(async () => {
  world = await crashWorld()
}, TIMEOUT)
afterAll(() => world?.close(), TIMEOUT)

describe('a process killed with SIGKILL loses nothing it served', () => {
  it('mid-batch: the survivors adopt its records once its lease lapses, and settle them once', async () => {
    const prefix = 'crash1:'
    const { planId, holders } = await world.planWithHolders(4)
    const agents = await Promise.all([0, 1, 2].map(() => world.agent(prefix, planId, lease(60_000))))
    const served = await burst(agents, holders, 300)
    expect(sum(served)).toBe(300)
    // Every commit has reached Redis (each is written as its response finishes), and nothing is
    // settled yet: the batches gather for a minute.
    await until('all three gates are registered', async () => (await world.owners(prefix)) === 3)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(world.ledger.redeemed(planId)).toBe(0)

    await agents[0]!.kill()
    // A survivor claims the dead gate once its lease lapses, adopts its records and forgets it.
    await until('the killed gate is adopted', async () => agents.slice(1).some((a) => a.output().includes('adopted')))
    expect(await world.owners(prefix)).toBe(2)
    await Promise.all(agents.slice(1).map((a) => a.stop()))
    for (const a of agents.slice(1)) expect(a.output()).toContain('closed cleanly')
    expectExact(world, planId, holders, served)
    expect(await world.owners(prefix)).toBe(0)
  }, TIMEOUT)

  it('the only process: the one started after it settles what it left', async () => {
    const prefix = 'crash2:'
    const { planId, holders } = await world.planWithHolders(2)
    const first = await world.agent(prefix, planId, lease(60_000))
    const served = await burst([first], holders, 50)
    await until('the gate is registered', async () => (await world.owners(prefix)) === 1)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await first.kill()
    expect(world.ledger.redeemed(planId)).toBe(0)
    const restarted = await world.agent(prefix, planId, lease(60_000))
    await until('the restarted process adopts', async () => restarted.output().includes('adopted 50 credit(s) of 2 holder(s)'))
    expect(await world.owners(prefix)).toBe(1)
    await restarted.stop()
    expectExact(world, planId, holders, served)
  }, TIMEOUT)

  it('with a settle in flight: it is judged from the balance (it burned) and not sent again; the rest is settled', async () => {
    const prefix = 'crash3:'
    const { planId, holders } = await world.planWithHolders(1)
    const first = await world.agent(prefix, planId, lease(100))
    let release!: () => void
    world.withhold = new Promise((resolve) => (release = resolve))
    world.settlesWithheld = 0
    const before = world.ledger.counters.settle
    const served = await burst([first], holders, 20)
    // The batch's settle reached the ledger and burned; its answer is withheld, and more is served meanwhile.
    await until('a settle is in flight', () => world.settlesWithheld > 0)
    const more = await burst([first], holders, 10)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await first.kill()
    release()
    world.withhold = undefined
    const burnedBeforeKill = world.ledger.redeemed(planId)
    expect(burnedBeforeKill).toBeGreaterThan(0)
    expect(burnedBeforeKill).toBeLessThan(30)
    const next = await world.agent(prefix, planId, lease(100))
    await until('the rest is settled', async () => world.ledger.redeemed(planId) >= 30, 20_000)
    await next.stop()
    const all = new Map([[holders[0]!.address, (served.get(holders[0]!.address) ?? 0) + (more.get(holders[0]!.address) ?? 0)]])
    expect(sum(all)).toBe(30)
    expectExact(world, planId, holders, all)
    expect(world.ledger.counters.settle - before).toBeGreaterThanOrEqual(2)
    expect(next.output()).not.toContain('does not tell whether it burned')
  }, TIMEOUT)
})
