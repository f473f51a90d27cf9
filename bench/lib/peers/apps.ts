/**
 * One server of the peer benchmark: the route (lib/peers/routes.ts) on Express 5 or Hono, bare or
 * behind one of the middlewares compared. Every guarded server talks to the same stand-in API
 * (lib/peers/upstream.ts) over loopback, through `globalThis.fetch` as users' servers do by default.
 */
import { createPlanGate, type BalanceStore, type PlanGate } from '@plangate/core'
import { requirePlan as expressPlan } from '@plangate/express'
import { requirePlan as honoPlan } from '@plangate/hono'
import express, { type RequestHandler } from 'express'
import { Hono, type MiddlewareHandler } from 'hono'
import { benchRedisStore, type BenchRedisStore } from '../redis/store'
import { neverminedMiddleware } from './nvm-sdk'
import type { PeerConfig } from './protocol'
import { BODY, routeWork } from './routes'
import { x402Express, x402Hono } from './x402'

export interface PeerApp {
  fetch?: (request: Request) => Response | Promise<Response>
  express?: express.Express
  gate?: PlanGate
  /** The Redis store's client, when the gate keeps its balances in Redis. */
  redis?: BenchRedisStore
}

function gateFor(settings: PeerConfig, store?: BalanceStore): PlanGate {
  return createPlanGate({
    apiKey: settings.agentKey,
    environment: settings.baseUrl,
    agentId: settings.agentId,
    cache: { max: Math.max(10_000, settings.holders) },
    settle: {
      batchMs: settings.peer === 'plangate-batched' ? settings.batchMs : 0,
      ...(settings.peer === 'plangate-batched' && settings.maxCredits !== undefined ? { maxCredits: settings.maxCredits } : {}),
    },
    ...(store ? { store } : {}),
    ...(settings.maxOrders === undefined ? {} : { autoOrder: { maxOrders: settings.maxOrders } }),
    ...(settings.gateTimeoutMs === undefined ? {} : { timeoutMs: settings.gateTimeoutMs }),
  })
}

export async function expressPeer(settings: PeerConfig): Promise<PeerApp> {
  const app = express()
  const work = routeWork(settings.route, settings.cpuIterations)
  const route: RequestHandler =
    settings.route === 'wait'
      ? async (_req, res) => {
          await work()
          res.json(BODY)
        }
      : (_req, res) => {
          work()
          res.json(BODY)
        }
  let gate: PlanGate | undefined
  const redis = settings.redis ? await benchRedisStore(settings.redis) : undefined
  if (settings.peer === 'plangate-batched' || settings.peer === 'plangate-immediate') {
    gate = gateFor(settings, redis?.store)
    app.get('/ask', expressPlan(settings.planId, { gate }), route)
  } else if (settings.peer === 'nvm-sdk') {
    app.use(await neverminedMiddleware(settings))
    app.get('/ask', route)
  } else if (settings.peer === 'x402') {
    app.use(x402Express(settings.facilitatorUrl))
    app.get('/ask', route)
  } else app.get('/ask', route)
  return { express: app, ...(gate ? { gate } : {}), ...(redis ? { redis } : {}) }
}

export function honoPeer(settings: PeerConfig): PeerApp {
  const app = new Hono()
  const work = routeWork(settings.route, settings.cpuIterations)
  let gate: PlanGate | undefined
  let guard: MiddlewareHandler | undefined
  if (settings.peer === 'plangate-batched' || settings.peer === 'plangate-immediate') guard = honoPlan(settings.planId, { gate: (gate = gateFor(settings)) })
  else if (settings.peer === 'x402') guard = x402Hono(settings.facilitatorUrl)
  else if (settings.peer === 'nvm-sdk') throw new Error("bench: Nevermined's paymentMiddleware is Express only")
  if (settings.redis) throw new Error('bench: the Redis store rows are Express only')
  if (guard) app.use('/ask', guard)
  if (settings.route === 'wait') {
    app.get('/ask', async (c) => {
      await work()
      return c.json(BODY)
    })
  } else {
    app.get('/ask', (c) => {
      work()
      return c.json(BODY)
    })
  }
  return { fetch: app.fetch, ...(gate ? { gate } : {}) }
}
