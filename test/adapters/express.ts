import http from 'node:http'
import express5, { type Request, type Response } from 'express'
import express4 from 'express4'
import { requirePlan, type ExpressRequirePlanOptions } from '@plangate/express'
import { listenOn, probe, type Driver } from './driver'
import { held, lines, reportUse, statusOf, usedFrom } from './usage-routes'

function driver(name: string, express: typeof express5): Driver {
  return {
    name,
    async start(planId, options) {
      const plan = requirePlan(planId as string, options as ExpressRequirePlanOptions)
      const mw = [plan, (_req: Request, _res: unknown, next: () => void) => (seen.started++, next())]
      const seen = probe()
      const app = express()
      app.get('/ok', ...mw, (req, res) => void res.json(req.balance))
      app.get('/bad', ...mw, (_req, res) => void res.status(400).json({ error: 'bad input' }))
      app.get('/fail', ...mw, (_req, res) => void res.status(500).json({ error: 'failed' }))
      app.get('/throw', ...mw, () => {
        throw new Error('route failed')
      })
      app.get('/slow', ...mw, async (_req, res) => {
        await new Promise((resolve) => res.once('close', resolve))
        seen.disconnected++
        await seen.released
        seen.finished++
        res.json({ late: true })
      })
      app.get('/use', ...mw, (req, res) => {
        const body = reportUse(req.balance, req.query.n as string | undefined)
        if (req.query.used !== undefined) res.set('x-used', req.query.used as string)
        res.status(statusOf(req.query.status as string | undefined)).json(body)
      })
      app.get('/stream', ...mw, async (req, res) => {
        for await (const line of lines(req.balance, req.query.chunks as string | undefined)) res.write(line)
        res.end()
      })
      app.get('/held', ...mw, async (req, res) => {
        for await (const line of held(req.balance, req.query.n as string | undefined, seen.signals)) res.write(line)
        res.end()
      })
      return listenOn(http.createServer(app), seen)
    },
    create: async (planId, options) => void requirePlan(planId as string, options as ExpressRequirePlanOptions),
    query: (req: Request, name) => req.query[name] as string | undefined,
    header: (req: Request, name) => req.get(name),
    usageFromHeader: (_req: Request, res: Response) => usedFrom(res.getHeader('x-used')),
    releasesOnDisconnect: true,
    skipsRouteOfGoneClient: true,
    gateFromEnv: 'creation',
  }
}

export const express5Driver = driver('Express 5', express5)
export const express4Driver = driver('Express 4', express4)
