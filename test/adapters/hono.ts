import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { requirePlan, type HonoRequirePlanOptions, type PlanVariables } from '@plangate/hono'
import { serveFetch } from '../helpers/serve'
import { probe, type Driver } from './driver'
import { held, lines, reportUse, statusOf, usedFrom } from './usage-routes'

export const honoDriver: Driver = {
  name: 'Hono',
  async start(planId, options) {
    const seen = probe()
    const app = new Hono<{ Variables: PlanVariables }>()
    app.use('*', requirePlan(planId as string, options as HonoRequirePlanOptions), async (_c, next) => {
      seen.started++
      await next()
    })
    app.get('/ok', (c) => c.json(c.get('balance')))
    app.get('/bad', (c) => c.json({ error: 'bad input' }, 400))
    app.get('/fail', (c) => c.json({ error: 'failed' }, 500))
    app.get('/throw', () => {
      throw new Error('route failed')
    })
    app.get('/slow', async (c) => {
      const signal = c.req.raw.signal
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
      seen.disconnected++
      await seen.released
      seen.finished++
      return c.json({ late: true })
    })
    app.get('/use', (c) => {
      const body = reportUse(c.get('balance'), c.req.query('n'))
      const used = c.req.query('used')
      if (used !== undefined) c.header('x-used', used)
      return c.json(body, statusOf(c.req.query('status')) as 200)
    })
    const streamOf = (it: AsyncGenerator<string>) => {
      const encoder = new TextEncoder()
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await it.next()
          if (next.done) controller.close()
          else controller.enqueue(encoder.encode(next.value))
        },
        cancel: () => void it.return(undefined),
      })
      return new Response(body, { headers: { 'content-type': 'text/plain' } })
    }
    app.get('/stream', (c) => streamOf(lines(c.get('balance'), c.req.query('chunks'))))
    app.get('/held', (c) => streamOf(held(c.get('balance'), c.req.query('n'), seen.signals)))
    // Hono's default handler logs what a route throws; the denials' own answers pass through.
    app.onError((err, c) => (err instanceof HTTPException ? err.getResponse() : c.json({ error: 'route failed' }, 500)))
    const server = await serveFetch(app.fetch)
    return { ...server, probe: seen }
  },
  create: async (planId, options) => void requirePlan(planId as string, options as HonoRequirePlanOptions),
  query: (c: Context, name) => c.req.query(name),
  header: (c: Context, name) => c.req.header(name),
  usageFromHeader: (c: Context) => usedFrom(c.res.headers.get('x-used')),
  releasesOnDisconnect: false,
  skipsRouteOfGoneClient: false,
  gateFromEnv: 'request',
}
