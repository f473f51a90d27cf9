/**
 * What only Fastify does: the plugin and its scopes, app.requirePlan carried out of them, errors that an error
 * handler answers, response schemas. Everything every adapter does the same way is in the shared
 * table, test/adapters/cases.ts, run on Fastify (per route and per scope) by
 * test/adapters/adapters.test.ts.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { plangate, type PlanGate } from '@plangate/fastify'
import { auth, expectProblem, get } from '../../../test/adapters/index'
import { secretsOf, subscribe, world } from '../../../test/helpers/world'

const apps: FastifyInstance[] = []
const gates: PlanGate[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
  await Promise.all(gates.splice(0).map((gate) => gate.close()))
})

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
}

describe('the plugin', () => {
  it('registered with a plan, charges the routes of its scope only', async () => {
    const { ledger, alice, planId, gate } = world()
    await subscribe(ledger, planId, alice)
    const app = Fastify()
    app.get('/free', async (request) => ({ balance: request.balance }))
    await app.register(async (paid) => {
      await paid.register(plangate, { planId, gate })
      paid.get('/paid', async (request) => request.balance)
    })
    const url = await listen(app)
    const free = await get(url, '/free')
    expect([free.status, free.json(), free.headers.get('x-plan-id')]).toEqual([200, {}, null]) // no balance there, nothing charged
    expectProblem(await get(url, '/paid'), 401, 'CREDENTIAL_MISSING', planId)
    const paid = await get(url, '/paid', auth(alice.apiKey))
    expect([paid.status, paid.json().remaining, paid.headers.get('x-credits-remaining')]).toEqual([200, 1, '1'])
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(1)
  })

  it('registered bare at the root and with a plan in a scope: settles once, charges once', async () => {
    const { ledger, alice, planId, gate } = world()
    await subscribe(ledger, planId, alice)
    const app = Fastify()
    await app.register(plangate)
    await app.register(async (paid) => {
      await paid.register(plangate, { planId, gate, prefix: '/ignored' }) // Fastify's own register options pass through
      paid.get('/paid', async (request) => request.balance)
    })
    const url = await listen(app)
    const first = await get(url, '/paid', auth(alice.apiKey))
    const second = await get(url, '/paid', auth(alice.apiKey))
    expect([first.json().remaining, second.json().remaining]).toEqual([1, 0])
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
  })

  it('refuses options without a planId, and bad options, when the app starts: a TypeError naming them', async () => {
    const { gate } = world()
    gates.push(gate)
    const withoutPlan = Fastify()
    apps.push(withoutPlan)
    await expect(withoutPlan.register(plangate, { gate, cost: 2 })).rejects.toThrow(/"planId"/)
    const badCost = Fastify()
    apps.push(badCost)
    await expect(badCost.register(plangate, { planId: 7, gate, cost: -1 })).rejects.toThrow(TypeError)
  })
})

describe('app.requirePlan', () => {
  it('exists only where the plugin is registered', async () => {
    const app = Fastify()
    apps.push(app)
    expect(app.hasDecorator('requirePlan')).toBe(false)
    expect((app as { requirePlan?: unknown }).requirePlan).toBeUndefined()
    await app.register(async (paid) => {
      await paid.register(plangate)
      expect(typeof paid.requirePlan).toBe('function')
    })
    await app.ready()
    expect(app.hasDecorator('requirePlan')).toBe(false)
  })

  it('carried into a scope without the plugin, answers 500 GATE_MISCONFIGURED and serves nothing free', async () => {
    const { ledger, alice, planId, gate } = track(world())
    await subscribe(ledger, planId, alice)
    const before = ledger.counters
    let routed = 0
    const app = Fastify()
    let carried: ReturnType<FastifyInstance['requirePlan']> | undefined
    await app.register(async (other) => {
      await other.register(plangate)
      carried = other.requirePlan(planId, { gate })
    })
    app.get('/paid', { preHandler: carried! }, async () => ({ routed: ++routed }))
    const res = await get(await listen(app), '/paid', auth(alice.apiKey))
    const body = expectProblem(res, 500, 'GATE_MISCONFIGURED', planId, secretsOf(alice.apiKey))
    expect(body.detail).toMatch(/app\.register\(plangate\)/)
    expect(routed).toBe(0)
    expect(ledger.counters).toEqual(before)
  })

  it('a route error that an error handler answers 200 is still never charged', async () => {
    const { ledger, alice, planId, gate } = world()
    await subscribe(ledger, planId, alice)
    const app = Fastify()
    await app.register(plangate)
    app.setErrorHandler(async () => ({ recovered: true }))
    app.get('/throw', { preHandler: app.requirePlan(planId, { gate }) }, async () => {
      throw new Error('route failed')
    })
    app.get('/ok', { preHandler: app.requirePlan(planId, { gate }) }, async (request) => request.balance)
    const url = await listen(app)
    const recovered = await get(url, '/throw', auth(alice.apiKey))
    expect([recovered.status, recovered.json()]).toEqual([200, { recovered: true }])
    expect(recovered.headers.get('x-credits-remaining')).toBeNull()
    expect((await get(url, '/ok', auth(alice.apiKey))).json().remaining).toBe(1) // the credit came back
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(1)
  })

  it("keeps the problem document whole on a route whose response schema would reshape it", async () => {
    const { planId, gate } = track(world())
    const app = Fastify()
    await app.register(plangate)
    const schema = { response: { '4xx': { type: 'object', properties: { message: { type: 'string' } } } } }
    app.get('/paid', { schema, preHandler: app.requirePlan(planId, { gate }) }, async () => ({ message: 'served' }))
    expectProblem(await get(await listen(app), '/paid'), 401, 'CREDENTIAL_MISSING', planId)
  })

  it('onDenied is an unknown option (it is Express only): a TypeError naming it', async () => {
    const { gate } = track(world())
    const app = Fastify()
    apps.push(app)
    await app.register(plangate)
    expect(() => app.requirePlan(1, { gate, onDenied: () => {} } as never)).toThrow(/"onDenied"/)
    expect(() => app.requirePlan(1, { gate, onDenied: () => {} } as never)).toThrow(TypeError)
  })
})

function track<T extends { gate: PlanGate }>(w: T): T {
  gates.push(w.gate)
  return w
}
