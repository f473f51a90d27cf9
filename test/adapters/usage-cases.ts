/**
 * Charging by usage (`cost: { max, usage? }`, `balance.use()`), the same on every adapter: what is
 * burned upstream for each way a route may report what it used, judged by the ledger once the
 * gate is closed.
 */
import { expect } from 'vitest'
import type { PlanGateHooks } from '@plangate/core'
import { subscribe, world } from '../helpers/world'
import type { AdapterCase, CaseContext } from './cases'
import { auth, eventually, get } from './http'

type UsageErrors = Array<{ message: string; amount: number | undefined }>

/** One request to `path` on a route priced `cost` (10 credits in the plan): what it answered, burned and reported. */
async function charged(t: CaseContext, cost: unknown, path: string): Promise<{ status: number; burned: number; reported: UsageErrors; settles: number }> {
  const reported: UsageErrors = []
  const hooks: PlanGateHooks = { onError: (error, context) => void (context.during === 'usage' && reported.push({ message: (error as Error).message, amount: context.amount })) }
  const { ledger, alice, planId, gate } = t.track(world({ credits: 10 }, 25, { hooks }))
  await subscribe(ledger, planId, alice)
  const app = await t.start(planId, { gate, cost })
  const before = ledger.counters.settle
  const answer = await get(app.url, path, auth(alice.apiKey))
  await app.close()
  await gate.close()
  return { status: answer.status, burned: ledger.redeemed(planId), reported, settles: ledger.counters.settle - before }
}

export const USAGE_CASES: AdapterCase[] = [
  {
    name: 'burns the sum of balance.use() and gives the rest of the maximum back',
    async run(t) {
      expect(await charged(t, { max: 5 }, '/use?n=2,1')).toMatchObject({ status: 200, burned: 3, reported: [] })
    },
  },
  {
    name: 'burns the maximum when the route reports nothing',
    async run(t) {
      expect(await charged(t, { max: 4 }, '/use')).toMatchObject({ status: 200, burned: 4, reported: [] })
    },
  },
  {
    name: 'caps a report above the maximum at it, and says so in hooks.onError',
    async run(t) {
      const result = await charged(t, { max: 5 }, '/use?n=3,4')
      expect(result).toMatchObject({ status: 200, burned: 5, reported: [{ amount: 5 }] })
      expect(result.reported[0]!.message).toMatch(/7 credits used, more than the 5 reserved/)
    },
  },
  {
    name: 'a report of 0 burns nothing and calls no settle',
    async run(t) {
      expect(await charged(t, { max: 5 }, '/use?n=0')).toMatchObject({ status: 200, burned: 0, settles: 0 })
    },
  },
  {
    name: 'balance.use() with a bad value fails the request (500) and charges nothing',
    async run(t) {
      for (const bad of ['-1', '1.5', 'NaN']) expect(await charged(t, { max: 5 }, `/use?n=${bad}`)).toMatchObject({ status: 500, burned: 0 })
    },
  },
  {
    name: 'a throw after use() fails the request (500) and charges nothing of what was reported',
    async run(t) {
      expect(await charged(t, { max: 5 }, '/use?n=2,-1')).toMatchObject({ status: 500, burned: 0 })
    },
  },
  {
    name: 'a non-2xx answer after use() charges nothing',
    async run(t) {
      expect(await charged(t, { max: 5 }, '/use?n=3&status=400')).toMatchObject({ status: 400, burned: 0 })
    },
  },
  {
    name: "a usage function given the framework's objects decides the charge",
    async run(t) {
      expect(await charged(t, { max: 5, usage: t.d.usageFromHeader }, '/use?n=1&used=4')).toMatchObject({ status: 200, burned: 4, reported: [] })
    },
  },
  {
    name: 'a usage function that returns a bad value or throws charges the maximum, and says why',
    async run(t) {
      const bad = await charged(t, { max: 5, usage: t.d.usageFromHeader }, '/use')
      expect(bad).toMatchObject({ status: 200, burned: 5, reported: [{ amount: 5 }] })
      expect(bad.reported[0]!.message).toMatch(/returned NaN/)
      const throwing = await charged(t, { max: 3, usage: () => Promise.reject(new Error('no count')) }, '/use')
      expect(throwing).toMatchObject({ status: 200, burned: 3, reported: [{ amount: 3 }] })
    },
  },
  {
    name: 'a stream read whole burns one credit per line',
    async run(t) {
      expect(await charged(t, { max: 8 }, '/stream?chunks=6')).toMatchObject({ status: 200, burned: 6 })
    },
  },
  {
    name: 'a stream that reaches the maximum stops (balance.signal) and burns the maximum',
    async run(t) {
      expect(await charged(t, { max: 4 }, '/stream?chunks=9')).toMatchObject({ status: 200, burned: 4, reported: [] })
    },
  },
  {
    name: 'balance.signal aborts (AbortError) when the client goes mid-stream, and the charge is what was reported until then',
    async run(t) {
      const { ledger, alice, planId, gate } = t.track(world({ credits: 100 }))
      await subscribe(ledger, planId, alice)
      const app = await t.start(planId, { gate, cost: { max: 10 } })
      const client = new AbortController()
      const response = await fetch(`${app.url}/held?n=2,1`, { headers: auth(alice.apiKey), signal: client.signal })
      expect(response.status).toBe(200)
      // The line comes after the route reported 3; then only the signal can end the route.
      const reader = response.body!.getReader()
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('held\n')
      expect(app.probe.signals).toEqual([])
      client.abort()
      await reader.cancel().catch(() => {})
      await eventually(() => expect(app.probe.signals).toEqual(['AbortError after 3']))
      await eventually(async () => {
        await gate.close()
        expect(ledger.redeemed(planId)).toBe(3)
      })
      await app.close()
    },
  },
  {
    name: 'a stream the client leaves is charged what it reported until then, never the maximum',
    async run(t) {
      const { ledger, alice, planId, gate } = t.track(world({ credits: 100 }))
      await subscribe(ledger, planId, alice)
      const app = await t.start(planId, { gate, cost: { max: 50 } })
      const client = new AbortController()
      const response = await fetch(`${app.url}/stream?chunks=50`, { headers: auth(alice.apiKey), signal: client.signal })
      const reader = response.body!.getReader()
      await reader.read()
      client.abort()
      await reader.cancel().catch(() => {})
      // The route stops once the gate sees the client go (balance.signal), and the charge follows.
      await eventually(async () => {
        await gate.close()
        const burned = ledger.redeemed(planId)
        expect(burned).toBeGreaterThanOrEqual(1)
        expect(burned).toBeLessThan(50)
      })
      await app.close()
    },
  },
]
