/**
 * The adapter cases: what every adapter must do the same way (docs/reference/frameworks.md, and docs/reference/how-it-works.md, "What burns credits, and why"), written once and run
 * against each driver (adapters.test.ts) on a real server over loopback. An adapter's own file
 * (packages/<name>/test) keeps only what is its framework's alone.
 */
import { expect } from 'vitest'
import type { PlanGate } from '@plangate/core'
import { secretsOf, subscribe, world } from '../helpers/world'
import type { Driver, RunningApp } from './driver'
import { auth, eventually, expectProblem, get, sleep } from './http'
import { OPTION_CASES } from './option-cases'
import { USAGE_CASES } from './usage-cases'

/** What a case gets: the driver, and `start`/`track` whose apps and gates are closed after it. */
export interface CaseContext {
  d: Driver
  start(planId: unknown, options?: Record<string, unknown>): Promise<RunningApp>
  track<T extends { gate: PlanGate }>(w: T): T
}

export interface AdapterCase {
  name: string
  run(t: CaseContext): Promise<void>
}

const MALFORMED_KEY = 'nvm:eyJhbGciOiJIUzI1NiJ9.bm90LWpzb24.c2lnbmF0dXJl'

/** Sends one request to `/slow` and drops it once the route has started. */
async function leaveMidRoute(app: RunningApp, apiKey: string): Promise<void> {
  const client = new AbortController()
  const left = get(app.url, '/slow', auth(apiKey), client.signal).catch((error: unknown) => error)
  await eventually(() => expect(app.probe.started).toBe(1))
  client.abort()
  expect(await left).toMatchObject({ name: 'AbortError' })
  await eventually(() => expect(app.probe.disconnected).toBe(1))
}

/** Two requests on the plan's 2 credits: both served, with no order, when no credit was kept. */
async function twoMoreFit(app: RunningApp, apiKey: string): Promise<void> {
  const first = await get(app.url, '/ok', auth(apiKey))
  const second = await get(app.url, '/ok', auth(apiKey))
  expect([first.json().remaining, second.json().remaining]).toEqual([1, 0])
}

const success: AdapterCase[] = [
  {
    name: 'lets a paid request through with the balance and the credit headers',
    async run({ start, track }) {
      const { ledger, alice, planId, gate } = track(world())
      await subscribe(ledger, planId, alice)
      const res = await get((await start(planId, { gate })).url, '/ok', auth(alice.apiKey))
      expect(res.status, res.text).toBe(200)
      expect(res.json()).toEqual({ planId, holderAddress: alice.address, remaining: 1, cost: 1, expiresAt: null })
      expect(res.headers.get('x-credits-remaining')).toBe('1')
      expect(res.headers.get('x-plan-id')).toBe(planId)
    },
  },
  {
    name: 'omits the headers with headers: false',
    async run({ start, track }) {
      const { ledger, alice, planId, gate } = track(world())
      await subscribe(ledger, planId, alice)
      const res = await get((await start(planId, { gate, headers: false })).url, '/ok', auth(alice.apiKey))
      expect(res.status).toBe(200)
      expect(res.json().remaining).toBe(1)
      expect(res.headers.get('x-credits-remaining')).toBeNull()
      expect(res.headers.get('x-plan-id')).toBeNull()
    },
  },
]

const settlement: AdapterCase[] = [
  {
    name: 'a 2xx burns the cost once sent, through x402 settle with the agent key',
    async run({ start }) {
      const { ledger, owner, alice, planId, gate, calls } = world()
      await subscribe(ledger, planId, alice)
      const res = await get((await start(planId, { gate, cost: 2 })).url, '/ok', auth(alice.apiKey))
      expect(res.status).toBe(200)
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(2)
      const redeems = calls.filter((call) => call.url.endsWith('/x402/settle'))
      expect(redeems.length).toBeGreaterThan(0)
      for (const call of redeems) expect(call.authorization).toBe(`Bearer ${owner.apiKey}`)
      expect(ledger.balance(planId, alice.address).remaining).toBe(0)
    },
  },
  ...['/bad', '/fail', '/throw'].map(
    (path): AdapterCase => ({
      name: `${path} redeems nothing, says nothing of credits, and gives them back`,
      async run({ start }) {
        const { ledger, alice, planId, gate } = world()
        await subscribe(ledger, planId, alice)
        const app = await start(planId, { gate })
        const failed = await get(app.url, path, auth(alice.apiKey))
        expect(failed.status).toBeGreaterThanOrEqual(400)
        // Nothing was charged, so nothing says what is left.
        expect(failed.headers.get('x-credits-remaining')).toBeNull()
        expect(failed.headers.get('x-plan-id')).toBeNull()
        // The credit came back: two more requests fit in the plan's 2 credits, with no order.
        await twoMoreFit(app, alice.apiKey)
        await gate.close()
        expect(ledger.redeemed(planId)).toBe(2)
        expect(ledger.orders(planId)).toBe(1)
      },
    }),
  ),
  {
    name: 'a client that leaves mid-route gets its credits back, and is not charged when the route answers later',
    async run({ d, start }) {
      const { ledger, alice, planId, gate } = world()
      await subscribe(ledger, planId, alice)
      const app = await start(planId, { gate })
      await leaveMidRoute(app, alice.apiKey)
      // Express, Koa and Fastify give the credit back as the client goes, while the route still works.
      if (d.releasesOnDisconnect) await twoMoreFit(app, alice.apiKey)
      expect(app.probe.finished).toBe(0)
      app.probe.go()
      await eventually(() => expect(app.probe.finished).toBe(1))
      if (!d.releasesOnDisconnect) await eventually(() => twoMoreFit(app, alice.apiKey))
      await sleep(20) // the late answer to the gone client settles nothing more
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(2)
      expect(ledger.orders(planId)).toBe(1)
    },
  },
  {
    name: 'a client that leaves while the balance is being read gets its credits back',
    async run({ d, start }) {
      const { ledger, alice, planId, gate, calls } = world()
      await subscribe(ledger, planId, alice)
      ledger.inject('balance', { delayMs: 300 })
      const app = await start(planId, { gate })
      const client = new AbortController()
      const left = get(app.url, '/ok', auth(alice.apiKey), client.signal).catch((error: unknown) => error)
      await eventually(() => expect(calls.some((call) => call.url.includes('/balance'))).toBe(true))
      client.abort()
      await left
      await sleep(400) // past the slow read: the admission is over, one way or the other
      if (d.skipsRouteOfGoneClient) expect(app.probe.started).toBe(0)
      await twoMoreFit(app, alice.apiKey)
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(2)
    },
  },
]

const INVALID_COSTS: Array<[string, () => unknown]> = [
  ['-1', () => -1],
  ['1.5', () => 1.5],
  ["'x'", () => 'x'],
  ['a throw', () => {
    throw new Error('no price list')
  }],
  ['a rejection', async () => {
    throw new Error('no price list')
  }],
]

const cost: AdapterCase[] = [
  {
    name: 'takes a number',
    async run({ start, track }) {
      const { ledger, alice, planId, gate } = track(world({ credits: 5 }))
      await subscribe(ledger, planId, alice)
      const res = await get((await start(planId, { gate, cost: 3 })).url, '/ok', auth(alice.apiKey))
      expect(res.json()).toMatchObject({ remaining: 2, cost: 3 })
    },
  },
  {
    name: 'takes an async function of the request',
    async run({ d, start }) {
      const { ledger, alice, planId, gate } = world({ credits: 5 })
      await subscribe(ledger, planId, alice)
      const cost = async (req: never) => {
        await sleep(1)
        return Number(d.query(req, 'n'))
      }
      const res = await get((await start(planId, { gate, cost })).url, '/ok?n=4', auth(alice.apiKey))
      expect(res.json()).toMatchObject({ remaining: 1, cost: 4 })
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(4)
    },
  },
  ...INVALID_COSTS.map(
    ([what, cost]): AdapterCase => ({
      name: `a cost function returning ${what} answers 500 COST_INVALID and charges nothing`,
      async run({ start }) {
        const { ledger, alice, planId, gate } = world()
        await subscribe(ledger, planId, alice)
        const app = await start(planId, { gate, cost })
        const body = expectProblem(await get(app.url, '/ok', auth(alice.apiKey)), 500, 'COST_INVALID', planId, secretsOf(alice.apiKey))
        expect(body.detail).not.toContain('no price list')
        expect(app.probe.started).toBe(0)
        await gate.close()
        expect(ledger.redeemed(planId)).toBe(0)
        expect(ledger.balance(planId, alice.address).remaining).toBe(2)
      },
    }),
  ),
]

const credentials: AdapterCase[] = [
  {
    name: 'answers 401 CREDENTIAL_MISSING with WWW-Authenticate without a key, with no upstream call',
    async run({ start, track }) {
      const { planId, gate, ledger } = track(world())
      const res = await get((await start(planId, { gate })).url, '/ok')
      expectProblem(res, 401, 'CREDENTIAL_MISSING', planId)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/)
      expect(Object.entries(ledger.counters).filter(([, n]) => n > 0)).toEqual([])
    },
  },
  {
    name: 'answers 401 CREDENTIAL_INVALID for a malformed key, with no upstream call',
    async run({ start, track }) {
      const { planId, gate, ledger } = track(world())
      const before = ledger.counters
      const res = await get((await start(planId, { gate })).url, '/ok', auth(MALFORMED_KEY))
      expectProblem(res, 401, 'CREDENTIAL_INVALID', planId, secretsOf(MALFORMED_KEY))
      expect(ledger.counters).toEqual(before)
    },
  },
  {
    name: 'reads the key with a custom credential function',
    async run({ d, start, track }) {
      const { ledger, alice, planId, gate } = track(world())
      await subscribe(ledger, planId, alice)
      const app = await start(planId, { gate, credential: (req: never) => d.header(req, 'x-api-key') })
      const ok = await get(app.url, '/ok', { 'x-api-key': alice.apiKey })
      expect(ok.status).toBe(200)
      expect(ok.json().holderAddress).toBe(alice.address)
      expectProblem(await get(app.url, '/ok', auth(alice.apiKey)), 401, 'CREDENTIAL_MISSING', planId, secretsOf(alice.apiKey))
    },
  },
  {
    name: 'a throwing credential function is a 500 problem, not a crash',
    async run({ start, track }) {
      const { planId, gate } = track(world())
      const credential = () => {
        throw new Error('secret lookup failed')
      }
      const body = expectProblem(await get((await start(planId, { gate, credential })).url, '/ok'), 500, 'INTERNAL_ERROR', planId)
      expect(body.detail).not.toContain('secret lookup failed')
    },
  },
]

const payment: AdapterCase[] = [
  {
    name: 'orders exactly once when the credits run out, then answers 402 once the wallet is empty',
    async run({ start, track }) {
      // Wallet 25, price 10: the first order leaves 15, the automatic one 5, and a third cannot be paid.
      const { ledger, alice, planId, gate } = track(world({ credits: 2, price: 10 }, 25))
      await subscribe(ledger, planId, alice)
      const app = await start(planId, { gate })
      const remaining: unknown[] = []
      for (let i = 0; i < 4; i++) {
        const res = await get(app.url, '/ok', auth(alice.apiKey))
        expect(res.status).toBe(200)
        remaining.push(res.json().remaining)
        if (i === 1) expect(ledger.orders(planId)).toBe(1) // not yet: credits 2 cover two requests
      }
      expect(remaining).toEqual([1, 0, 1, 0])
      expect(ledger.orders(planId)).toBe(2) // the 3rd request ordered, once
      const body = expectProblem(await get(app.url, '/ok', auth(alice.apiKey)), 402, 'PAYMENT_REQUIRED', planId, secretsOf(alice.apiKey))
      expect(body.type).toMatch(/^urn:plangate:problem:/)
      expect(ledger.orders(planId)).toBe(2)
    },
  },
  {
    name: 'R credits, N concurrent requests, no auto-order: exactly R are served and redeemed',
    async run({ start }) {
      const { ledger, alice, planId, gate } = world({ credits: 7 }, 25, { autoOrder: false })
      await subscribe(ledger, planId, alice)
      const app = await start(planId, { gate })
      const answers = await Promise.all(Array.from({ length: 30 }, () => get(app.url, '/ok', auth(alice.apiKey))))
      expect(answers.filter((res) => res.status === 200)).toHaveLength(7)
      for (const res of answers.filter((res) => res.status !== 200)) expectProblem(res, 402, 'PAYMENT_REQUIRED', planId, secretsOf(alice.apiKey))
      expect(answers.map((res) => res.headers.get('x-credits-remaining')).filter((n) => n !== null).sort()).toEqual(['0', '1', '2', '3', '4', '5', '6'])
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(7)
      expect(ledger.orders(planId)).toBe(1)
    },
  },
]

export const CASES: Record<string, AdapterCase[]> = { success, settlement, cost, 'usage pricing': USAGE_CASES, credentials, payment, options: OPTION_CASES }
