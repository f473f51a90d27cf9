/**
 * Every adapter against the same table of cases (cases.ts, option-cases.ts, env-cases.ts), each on a real app
 * served over loopback: Express 5 and 4, Hono on @hono/node-server, Koa 3 and 2, and Fastify with
 * `requirePlan` per route and with the plugin for a whole scope.
 */
import { afterEach, describe, it } from 'vitest'
import type { PlanGate } from '@plangate/core'
import { CASES, type CaseContext } from './cases'
import type { Driver, RunningApp } from './driver'
import { ENV_CASES } from './env-cases'
import { express4Driver, express5Driver } from './express'
import { fastifyRouteDriver, fastifyScopeDriver } from './fastify'
import { honoDriver } from './hono'
import { restoreEnvAfterEach } from './http'
import { koa2Driver, koa3Driver } from './koa'

export const DRIVERS: Driver[] = [express5Driver, express4Driver, honoDriver, koa3Driver, koa2Driver, fastifyRouteDriver, fastifyScopeDriver]

describe.each(DRIVERS.map((d) => [d.name, d] as const))('requirePlan on %s', (_name, d) => {
  const apps: RunningApp[] = []
  const gates: PlanGate[] = []
  const t: CaseContext = {
    d,
    async start(planId, options) {
      const app = await d.start(planId, options)
      apps.push(app)
      return app
    },
    track(w) {
      gates.push(w.gate)
      return w
    },
  }
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()))
    await Promise.all(gates.splice(0).map((gate) => gate.close()))
  })

  for (const [group, cases] of Object.entries(CASES)) {
    describe(group, () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', (_case, c) => c.run(t))
    })
  }

  describe('the gate from the environment', () => {
    restoreEnvAfterEach(['NVM_API_KEY', 'NVM_ENVIRONMENT'])
    it.each(ENV_CASES.map((c) => [c.name, c] as const))('%s', (_case, c) => c.run(t))
  })
})
