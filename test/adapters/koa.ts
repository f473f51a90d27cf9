import http from 'node:http'
import Koa3, { type Context } from 'koa'
import Koa2 from 'koa2'
import { requirePlan, type KoaRequirePlanOptions } from '@plangate/koa'
import { Readable } from 'node:stream'
import { listenOn, probe, type Driver } from './driver'
import { held, lines, reportUse, statusOf, usedFrom } from './usage-routes'

function driver(name: string, Koa: typeof Koa3): Driver {
  return {
    name,
    async start(planId, options) {
      const seen = probe()
      const app = new Koa()
      app.silent = true // Koa logs what a route throws
      app.use(requirePlan(planId as string, options as KoaRequirePlanOptions))
      app.use(async (ctx) => {
        seen.started++
        if (ctx.path === '/ok') ctx.body = ctx.state.balance
        else if (ctx.path === '/bad') [ctx.status, ctx.body] = [400, { error: 'bad input' }]
        else if (ctx.path === '/fail') [ctx.status, ctx.body] = [500, { error: 'failed' }]
        else if (ctx.path === '/throw') throw new Error('route failed')
        else if (ctx.path === '/use') {
          const body = reportUse(ctx.state.balance, ctx.query.n as string | undefined)
          if (ctx.query.used !== undefined) ctx.set('x-used', ctx.query.used as string)
          ;[ctx.status, ctx.body] = [statusOf(ctx.query.status as string | undefined), body]
        } else if (ctx.path === '/stream') ctx.body = Readable.from(lines(ctx.state.balance, ctx.query.chunks as string | undefined))
        else if (ctx.path === '/held') ctx.body = Readable.from(held(ctx.state.balance, ctx.query.n as string | undefined, seen.signals))
        else if (ctx.path === '/slow') {
          await new Promise((resolve) => ctx.res.once('close', resolve))
          seen.disconnected++
          await seen.released
          seen.finished++
          ctx.body = { late: true }
        }
      })
      return listenOn(http.createServer(app.callback()), seen)
    },
    create: async (planId, options) => void requirePlan(planId as string, options as KoaRequirePlanOptions),
    query: (ctx: Context, name) => ctx.query[name] as string | undefined,
    header: (ctx: Context, name) => ctx.get(name),
    usageFromHeader: (ctx: Context) => usedFrom(ctx.response.get('x-used') || undefined),
    releasesOnDisconnect: true,
    skipsRouteOfGoneClient: true,
    gateFromEnv: 'creation',
  }
}

export const koa3Driver = driver('Koa 3', Koa3)
export const koa2Driver = driver('Koa 2', Koa2)
