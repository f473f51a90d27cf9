/**
 * A process killed with SIGKILL the moment it has answered loses nothing it served: its answers
 * went out only once their commits were in Redis (see answer-after-record.test.ts), and a
 * survivor or a process restarted in its place (whichever claims its lapsed lease first) settles
 * them, exactly once. Real Express processes (agent.ts) on one real redis-server; the local
 * ledger judges: Σ settled = Σ cost of the 2xx answers, every holder's balance exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Running } from '../runtimes/process'
import { addServed, burst, crashWorld, expectExact, sleep, sum, until, type CrashWorld } from './crash-world'

/** CRASH_RUNS and CRASH_STRESS_RUNS repeat the tests more (or less) when hunting a race. */
const RUNS = Number(process.env.CRASH_RUNS ?? 3)
const LEASE_MS = Number(process.env.CRASH_LEASE_MS ?? 1_500)
let world: CrashWorld

beforeAll(async () => {
  world = await crashWorld()
}, 60_000)
afterAll(() => world?.close(), 60_000)

describe('a killed process with a survivor and a restart', () => {
  for (let run = 1; run <= RUNS; run++) {
    it(`A killed with 10 unsettled, B serves 1, A restarted: exactly 11 settled (run ${run} of ${RUNS})`, async () => {
      const prefix = `adopt${run}:`
      const { planId, holders } = await world.planWithHolders(1)
      const a = await world.agent(prefix, planId, { batchMs: 60_000, leaseMs: LEASE_MS })
      const served = await burst([a], holders, 10)
      await a.kill()
      const b = await world.agent(prefix, planId, { batchMs: 200, leaseMs: LEASE_MS })
      addServed(served, await burst([b], holders, 1))
      const restarted = await world.agent(prefix, planId, { batchMs: 200, leaseMs: LEASE_MS })
      expect(sum(served)).toBe(11)
      const survivors: Running[] = [b, restarted]
      const settled = () => world.ledger.redeemed(planId) >= 11
      await until('11 credits are settled', settled, 3 * LEASE_MS + 10_000).catch(() => {})
      await Promise.all(survivors.map((s) => s.stop()))
      const logs = survivors.map((s, i) => `--- ${i === 0 ? 'B' : "A'"}\n${s.output()}`).join('\n')
      expect(world.ledger.redeemed(planId), logs).toBe(11)
      expectExact(world, planId, holders, served)
      expect(await world.owners(prefix), logs).toBe(0)
    }, 120_000)
  }
})

type Moment = 'before its batch' | 'during its settle' | 'after its batch'
interface StressRun {
  moment: Moment
  /** Processes still up after the kill, the restarted one among them. */
  survivors: 2 | 3
  restart: boolean
  /** How long after its last answer the victim is killed (ms): 0 in every other run, the moment its commits are written. */
  delayMs: number
}

/** Every shape a run may take, cycled so that 20 runs cover each at least twice; delays drawn at random. */
function stressRun(run: number): StressRun {
  const moments: Moment[] = ['before its batch', 'during its settle', 'after its batch']
  const shapes = [
    { survivors: 2, restart: false },
    { survivors: 2, restart: true },
    { survivors: 3, restart: false },
    { survivors: 3, restart: true },
  ] as const
  return { moment: moments[run % 3]!, ...shapes[Math.floor(run / 3) % 4]!, delayMs: run % 2 === 0 ? 0 : Math.floor(Math.random() * 300) }
}

const STRESS_RUNS = Number(process.env.CRASH_STRESS_RUNS ?? 20)

describe(`killed at random moments, ${STRESS_RUNS} runs: Σ settled = Σ cost of the 2xx answers, every run`, () => {
  for (let run = 0; run < STRESS_RUNS; run++) {
    const shape = stressRun(run)
    const title = `run ${run + 1} of ${STRESS_RUNS}: killed ${shape.moment}, ${shape.survivors} survivors${shape.restart ? ', one a restart' : ''}`
    it(title, async () => {
      const prefix = `stress${run}:`
      const { planId, holders } = await world.planWithHolders(2)
      const siblings = shape.survivors - (shape.restart ? 1 : 0)
      const victimBatchMs = shape.moment === 'before its batch' ? 60_000 : 100
      const [victim, ...live] = await Promise.all([
        world.agent(prefix, planId, { batchMs: victimBatchMs, leaseMs: LEASE_MS }),
        ...Array.from({ length: siblings }, () => world.agent(prefix, planId, { batchMs: 200, leaseMs: LEASE_MS })),
      ])
      let release: (() => void) | undefined
      if (shape.moment === 'during its settle') {
        world.withhold = new Promise((resolve) => (release = resolve))
        world.settlesWithheld = 0
      }
      const served = await burst([victim!, ...live], holders, 24)
      if (shape.moment === 'during its settle') await until('a settle is in flight', () => world.settlesWithheld > 0)
      if (shape.moment === 'after its batch') {
        await until('the victim settled a batch', () => world.ledger.redeemed(planId) > 0)
        addServed(served, await burst([victim!], holders, 4))
      }
      if (shape.delayMs > 0) await sleep(shape.delayMs)
      await victim!.kill()
      release?.()
      world.withhold = undefined
      const survivors = shape.restart ? [...live, await world.agent(prefix, planId, { batchMs: 200, leaseMs: LEASE_MS })] : live
      addServed(served, await burst(survivors, holders, 6))
      // Done once the victim is adopted (its lease lapsed) and what it left is settled: not before.
      const done = async () => (await world.owners(prefix)) === survivors.length && world.ledger.redeemed(planId) >= sum(served)
      await until('the victim is adopted and everything served is settled', done, 3 * LEASE_MS + 15_000).catch(() => {})
      await Promise.all(survivors.map((s) => s.stop()))
      const logs = survivors.map((s, i) => `--- survivor ${i + 1}\n${s.output()}`).join('\n')
      expect(logs).not.toContain('does not tell whether it burned')
      expect(world.ledger.redeemed(planId), `${title}\n${logs}`).toBe(sum(served))
      expectExact(world, planId, holders, served)
      expect(await world.owners(prefix), logs).toBe(0)
    }, 120_000)
  }
})
