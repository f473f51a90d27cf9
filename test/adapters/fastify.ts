import type { Server } from 'node:http'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify'
import { plangate, type PlangateOptions } from '@plangate/fastify'
import { Readable } from 'node:stream'
import { probe, type Driver, type Probe } from './driver'
import { held, lines, reportUse, statusOf, usedFrom } from './usage-routes'

/** The routes, each with `preHandler`s of its own (run after the scope's hooks). */
function routes(app: FastifyInstance, seen: Probe, preHandler: preHandlerAsyncHookHandler[]): void {
  const opts = { preHandler: [...preHandler, async () => void seen.started++] }
  app.get('/ok', opts, async (request) => request.balance)
  app.get('/bad', opts, async (_request, reply) => reply.code(400).send({ error: 'bad input' }))
  app.get('/fail', opts, async (_request, reply) => reply.code(500).send({ error: 'failed' }))
  app.get('/throw', opts, async () => {
    throw new Error('route failed')
  })
  app.get('/use', opts, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    const body = reportUse(request.balance, query.n)
    if (query.used !== undefined) reply.header('x-used', query.used)
    return reply.code(statusOf(query.status)).send(body)
  })
  app.get('/stream', opts, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    return reply.type('text/plain').send(Readable.from(lines(request.balance, query.chunks)))
  })
  app.get('/held', opts, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    return reply.type('text/plain').send(Readable.from(held(request.balance, query.n, seen.signals)))
  })
  app.get('/slow', opts, async (_request, reply) => {
    await new Promise((resolve) => reply.raw.once('close', resolve))
    seen.disconnected++
    await seen.released
    seen.finished++
    return { late: true }
  })
}

/**
 * Fastify with `app.requirePlan` as each route's preHandler (the plugin registered bare, which adds it), or the plugin
 * registered with the plan for the whole scope; in a child scope either way.
 */
function driver(name: string, per: 'route' | 'scope'): Driver {
  const guard = async (app: FastifyInstance, planId: unknown, options?: Record<string, unknown>): Promise<preHandlerAsyncHookHandler[]> => {
    if (per === 'scope') {
      await app.register(plangate, { ...options, planId } as PlangateOptions)
      return []
    }
    await app.register(plangate)
    return [app.requirePlan(planId as string, options)]
  }
  return {
    name,
    async start(planId, options) {
      const seen = probe()
      const app = Fastify()
      await app.register(async (scope) => routes(scope, seen, await guard(scope, planId, options)))
      await app.listen({ port: 0, host: '127.0.0.1' })
      const server = app.server as Server
      const { port } = server.address() as { port: number }
      return { url: `http://127.0.0.1:${port}`, probe: seen, close: () => (server.closeAllConnections(), app.close()) }
    },
    async create(planId, options) {
      const app = Fastify()
      try {
        await guard(app, planId, options)
        await app.ready()
      } finally {
        await app.close().catch(() => {})
      }
    },
    query: (request: FastifyRequest, name) => (request.query as Record<string, string | undefined>)[name],
    header: (request: FastifyRequest, name) => request.headers[name] as string | undefined,
    usageFromHeader: (_request: FastifyRequest, reply: FastifyReply) => usedFrom(reply.getHeader('x-used')),
    releasesOnDisconnect: true,
    skipsRouteOfGoneClient: true,
    gateFromEnv: 'creation',
  }
}

export const fastifyRouteDriver = driver('Fastify (preHandler)', 'route')
export const fastifyScopeDriver = driver('Fastify (plugin scope)', 'scope')
