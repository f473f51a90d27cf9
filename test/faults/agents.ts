/**
 * The fault suite's agent on each adapter, on loopback: `/paid` charges `?cost=` (default 1),
 * waits `?wait=` ms (or, with `?wait=disconnect`, until the server has seen the client go),
 * answers `?status=` (default 200) with `{ balance }`.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import Koa from 'koa'
import type { PlanGate } from '@plangate/core'
import { requirePlan as expressPlan } from '@plangate/express'
import { plangate } from '@plangate/fastify'
import { requirePlan as honoPlan, type PlanVariables } from '@plangate/hono'
import { requirePlan as koaPlan } from '@plangate/koa'
import { listen, serveFetch } from '../helpers/serve'

export type Adapter = 'express' | 'hono' | 'koa' | 'fastify'
export const ADAPTERS: Adapter[] = ['express', 'hono', 'koa', 'fastify']

type Seen = { started: number; finished: number }
type Query = (name: string) => string | undefined
type Server = Promise<{ url: string; close(): Promise<void> }>

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const costOf = (query: Query) => Number(query('cost') ?? 1)

/** The route, whatever the framework: `gone` resolves once the server has seen the client go. */
async function route(query: Query, gone: () => Promise<unknown>, seen: Seen): Promise<number> {
  seen.started++
  if (query('wait') === 'disconnect') await gone()
  else await sleep(Number(query('wait') ?? 0))
  seen.finished++
  return Number(query('status') ?? 200)
}

const closed = (res: ServerResponse | IncomingMessage) => () => new Promise((resolve) => res.once('close', resolve))

export const AGENTS: Record<Adapter, (gate: PlanGate, planId: string, seen: Seen) => Server> = {
  express(gate, planId, seen) {
    const app = express()
    app.all('/paid', expressPlan(planId, { gate, cost: (req) => costOf((n) => req.query[n] as string | undefined) }), async (req, res) => {
      const status = await route((n) => req.query[n] as string | undefined, closed(res), seen)
      res.status(status).json({ balance: req.balance })
    })
    return listen(app)
  },
  hono(gate, planId, seen) {
    const app = new Hono<{ Variables: PlanVariables }>()
    app.all('/paid', honoPlan(planId, { gate, cost: (c) => costOf((n) => c.req.query(n)) }), async (c) => {
      const signal = c.req.raw.signal
      const status = await route((n) => c.req.query(n), () => new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })), seen)
      return c.json({ balance: c.get('balance') }, status as 200)
    })
    return serveFetch(app.fetch)
  },
  koa(gate, planId, seen) {
    const app = new Koa()
    app.silent = true
    const query = (ctx: Koa.Context): Query => (n) => ctx.query[n] as string | undefined
    app.use(koaPlan(planId, { gate, cost: (ctx) => costOf(query(ctx)) }))
    app.use(async (ctx) => {
      ctx.status = await route(query(ctx), closed(ctx.res), seen)
      ctx.body = { balance: ctx.state.balance }
    })
    return listen({ listen: (port, host) => http.createServer(app.callback()).listen(port, host) })
  },
  async fastify(gate, planId, seen) {
    const app = Fastify()
    const query = (request: { query: unknown }): Query => (n) => (request.query as Record<string, string | undefined>)[n]
    await app.register(plangate, { planId, gate, cost: (request) => costOf(query(request)) })
    app.all('/paid', async (request, reply) => {
      const status = await route(query(request), closed(reply.raw), seen)
      return reply.code(status).send({ balance: request.balance })
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    return { url: `http://127.0.0.1:${port}`, close: async () => (app.server.closeAllConnections(), app.close()) }
  },
}
