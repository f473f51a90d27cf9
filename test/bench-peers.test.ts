/**
 * The peer benchmark (bench/sections/peers/measure.ts) compares plangate with middlewares that call the API on
 * every request; its table is only true if each server really does what its row says. Over real
 * HTTP on loopback, against the benchmark's own stand-in API (bench/lib/peers/stand-in.ts): the SDK's
 * paymentMiddleware and @x402/express / @x402/hono verify and settle once per paid request and
 * refuse an unpaid one; plangate settles once per request when immediate and once per holder per
 * window when batched; the bare server makes no call; and the stand-in counts every call.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { x402Payloads } from '../bench/lib/peers/credentials'
import { expressPeer, honoPeer, type PeerApp } from '../bench/lib/peers/apps'
import { hasNeverminedSdk, sdkRequired } from '../bench/lib/peers/nvm-sdk-bundle'
import type { PeerConfig, PeerKind } from '../bench/lib/peers/protocol'
import { AGENT_ID, createStandInApi, type StandInApi } from '../bench/lib/peers/stand-in'
import { listen, serveFetch } from './helpers/serve'

let api: StandInApi
let origin: string
const open: { close(): Promise<void> }[] = []
const gates: NonNullable<PeerApp['gate']>[] = []

beforeAll(async () => {
  api = await createStandInApi({ holders: 2, delayMs: 0, tokens: true })
  const served = await serveFetch(api.fetch)
  open.push(served)
  origin = new URL(served.url).origin
  return async () => {
    await Promise.all(open.splice(0).map((server) => server.close()))
  }
})
afterEach(async () => {
  await Promise.all(gates.splice(0).map((gate) => gate.close()))
})

function settings(framework: 'express' | 'hono', peer: PeerKind): PeerConfig {
  return {
    framework,
    peer,
    route: 'const',
    cpuIterations: 0,
    batchMs: 60_000,
    holders: api.keys.length,
    origin,
    baseUrl: `${origin}/api/v1`,
    facilitatorUrl: `${origin}/facilitator`,
    agentKey: api.agentKey,
    agentId: AGENT_ID,
    planId: api.planId,
  }
}

async function start(framework: 'express' | 'hono', peer: PeerKind): Promise<string> {
  const app = framework === 'express' ? await expressPeer(settings(framework, peer)) : honoPeer(settings(framework, peer))
  if (app.gate) gates.push(app.gate)
  const server = app.express ? await listen(app.express) : await serveFetch(app.fetch!)
  open.push(server)
  return server.url
}

async function ask(url: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${url}/ask`, { headers })
  await response.arrayBuffer()
  return response.status
}

/** Calls the stand-in answered while `work` ran (and until they stop, bounded). */
async function callsDuring(work: () => Promise<void>): Promise<Record<string, number>> {
  const before = api.counters()
  await work()
  let after = api.counters()
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    const now = api.counters()
    if (Object.keys(now).every((k) => now[k] === after[k])) break
    after = now
  }
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]).filter(([, n]) => n !== 0))
}

const REQUESTS = 5

describe('the peer benchmark servers', () => {
  // Skipped where Nevermined's SDK bundle is missing, except under CI (see nvm-sdk-bundle.ts).
  it.runIf(hasNeverminedSdk() || sdkRequired())("Nevermined's paymentMiddleware verifies and settles every paid request, and refuses an unpaid one", async () => {
    const url = await start('express', 'nvm-sdk')
    expect(await ask(url)).toBe(402)
    const redeemed = api.ledger.redeemed(api.planId)
    const calls = await callsDuring(async () => {
      for (let i = 0; i < REQUESTS; i++) expect(await ask(url, { 'payment-signature': api.tokens[i % 2]! })).toBe(200)
    })
    expect(calls).toEqual({ verify: REQUESTS, settle: REQUESTS })
    expect(api.ledger.redeemed(api.planId) - redeemed).toBe(REQUESTS)
  })

  for (const framework of ['express', 'hono'] as const) {
    it(`@x402/${framework} verifies and settles every paid request with the facilitator, and refuses an unpaid one`, async () => {
      const url = await start(framework, 'x402')
      const payloads = await x402Payloads(Number(new URL(url).port), 2) // also checks the 402
      const calls = await callsDuring(async () => {
        for (let i = 0; i < REQUESTS; i++) expect(await ask(url, { 'payment-signature': payloads[i % 2]! })).toBe(200)
      })
      expect(calls).toEqual({ 'facilitator verify': REQUESTS, 'facilitator settle': REQUESTS })
      // A payload for another amount is refused by the facilitator, so the middleware really asks it.
      const forged = JSON.parse(Buffer.from(payloads[0]!, 'base64').toString()) as { accepted: { amount: string } }
      forged.accepted.amount = '1'
      expect(await ask(url, { 'payment-signature': Buffer.from(JSON.stringify(forged)).toString('base64') })).toBe(402)
    })

    it(`plangate on ${framework}: immediate settles each request of a warm token, batched once per holder per window; bare calls nothing`, async () => {
      const immediate = await start(framework, 'plangate-immediate')
      const token = { 'payment-signature': api.tokens[0]! }
      expect(await ask(immediate, token)).toBe(200) // warm: the token verified once
      const one = await callsDuring(async () => {
        for (let i = 0; i < REQUESTS; i++) {
          const settled = api.counters().settle!
          expect(await ask(immediate, token)).toBe(200)
          // One at a time, so none is merged with another in flight.
          for (let j = 0; j < 100 && api.counters().settle === settled; j++) await new Promise((resolve) => setTimeout(resolve, 10))
        }
      })
      expect(one).toEqual({ settle: REQUESTS })

      const batched = await start(framework, 'plangate-batched')
      expect(await ask(batched, token)).toBe(200)
      const gate = gates.at(-1)!
      const window = await callsDuring(async () => {
        for (let i = 0; i < REQUESTS; i++) expect(await ask(batched, token)).toBe(200)
        await gate.close() // ends the (60 s) window: what was gathered is burned now
      })
      expect(window).toEqual({ settle: 1 })

      const bare = await start(framework, 'bare')
      expect(await callsDuring(async () => void (await ask(bare, token)))).toEqual({})
    })
  }
})
