import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { requirePlan, type HonoRequirePlanOptions, type PlanVariables } from '@plangate/hono'
import { serveFetch } from '../helpers/serve'
import { probe, type Driver } from './driver'

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
    // Hono's default handler logs what a route throws; the denials' own answers pass through.
    app.onError((err, c) => (err instanceof HTTPException ? err.getResponse() : c.json({ error: 'route failed' }, 500)))
    const server = await serveFetch(app.fetch)
    return { ...server, probe: seen }
  },
  create: async (planId, options) => void requirePlan(planId as string, options as HonoRequirePlanOptions),
  query: (c: Context, name) => c.req.query(name),
  header: (c: Context, name) => c.req.header(name),
  releasesOnDisconnect: false,
  skipsRouteOfGoneClient: false,
  gateFromEnv: 'request',
}
