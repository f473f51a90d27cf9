/**
 * One Hono agent for every runtime Hono runs on: workerd (Cloudflare Workers), Deno, Bun and Node.
 * Each runtime's entry point only serves `createWorkerApp().fetch` (worker.ts, bun.ts, node.ts).
 *
 * Two modes, chosen on the first request from `env(c)` (bindings on Workers, the process
 * environment on Deno, Bun and Node):
 * - `NVM_API_KEY` set: the real Nevermined API. `requirePlan(NVM_PLAN_ID)` builds its gate from
 *   `NVM_API_KEY` / `NVM_ENVIRONMENT` in `env(c)` by itself.
 * - otherwise: a local ledger inside the app, with an agent that sells plan `planId` (3 credits
 *   for 10). The DEMO-ONLY routes under `/demo` mint funded subscriber keys and show the ledger;
 *   they exist only in this mode, because there the money is make-believe.
 *
 * Nothing happens at module scope or in `createWorkerApp()` but building routes: workerd forbids
 * timers, I/O and random values (which creating ledger accounts needs) outside a request.
 */
import { createPlanGate } from '@plangate/core'
import { createLocalLedger, type LocalLedger } from '@plangate/core/local'
import { requirePlan, type PlanVariables } from '@plangate/hono'
import { Hono, type MiddlewareHandler } from 'hono'
import { env } from 'hono/adapter'

/** What the app reads from `env(c)`: Worker bindings (secrets and vars) or the process environment. */
export type AgentEnv = {
  NVM_API_KEY?: string
  NVM_ENVIRONMENT?: string
  NVM_PLAN_ID?: string
}

type App = { Variables: PlanVariables }
type Charge = MiddlewareHandler<App>

/** The local-ledger world of the demo mode. */
interface LocalWorld {
  ledger: LocalLedger
  planId: string
  charge: Charge
}

/** A subscriber's wallet affords one order of the demo plan (price 10), not two. */
const DEMO_FUNDS = 15

export function createWorkerApp(): Hono<App> {
  const app = new Hono<App>()
  let charge: Charge | undefined
  let local: LocalWorld | undefined

  // Built on the first request: only then are the bindings known (and random values allowed).
  const setUp = (vars: AgentEnv): Charge => {
    if (vars.NVM_API_KEY) {
      if (!vars.NVM_PLAN_ID) throw new Error('Set NVM_PLAN_ID to the id of your plan to run against the Nevermined API.')
      return requirePlan(vars.NVM_PLAN_ID)
    }
    local = localWorld()
    return local.charge
  }

  app.use('*', async (c, next) => {
    charge ??= setUp(env<AgentEnv>(c))
    await next()
  })

  app.get('/health', (c) => c.json({ ok: true, mode: local ? 'local ledger' : 'Nevermined API' }))

  app.post('/ask', (c, next) => charge!(c, next), async (c) => {
    const body = await c.req.json().catch(() => ({}))
    return c.json({ answer: answer((body as { question?: unknown }).question), balance: c.get('balance') })
  })

  // DEMO ONLY (local ledger): a fresh subscriber key, funded for one order of the plan.
  app.post('/demo/subscriber', (c) => {
    if (!local) return c.notFound()
    const subscriber = local.ledger.createAccount({ funds: DEMO_FUNDS })
    return c.json({ ...subscriber, planId: local.planId, funds: DEMO_FUNDS }, 201)
  })

  // DEMO ONLY (local ledger): what the ledger holds for a subscriber, to watch the gate work.
  app.get('/demo/ledger/:address', (c) => {
    if (!local) return c.notFound()
    const { ledger, planId } = local
    const address = c.req.param('address')
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return c.json({ error: 'not an address (0x and 40 hex digits)' }, 400)
    return c.json({ planId, orders: ledger.orders(planId), redeemed: ledger.redeemed(planId), wallet: ledger.wallet(address) })
  })

  return app
}

/** The agent's "work": a tiny deterministic answer (as the Node agents give; their helpers use Node APIs). */
function answer(question: unknown): string {
  const text = typeof question === 'string' && question.trim() ? question.trim().slice(0, 200) : 'nothing'
  return `You asked about ${JSON.stringify(text)}. plangate charged one credit for this answer.`
}

function localWorld(): LocalWorld {
  const ledger = createLocalLedger()
  const agent = ledger.createAccount({ funds: 0 })
  const planId = ledger.createPlan({ credits: 3, price: 10, owner: agent.address })
  const gate = createPlanGate({ apiKey: agent.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
  return { ledger, planId, charge: requirePlan(planId, { gate }) }
}
