/**
 * The Worker of the Durable Object store test: Hono, `@plangate/hono`, and a gate whose store is
 * `createDurableObjectStore(env.PLANGATE_STORE)`, reaching a local ledger the test serves over
 * loopback (`NVM_ENVIRONMENT`). config.capnp runs it as two Worker services (two isolates, each
 * with its own gate) that share one `PlanGateStore` namespace.
 *
 * - `POST /ask/:plan`: one credit of plan `:plan`, no automatic order (402 when it runs out);
 * - `POST /auto/:plan`: the same, ordering the plan automatically;
 * - `POST /stalled/:plan`, `POST /failing/:plan`: stores whose object hangs or throws (503);
 * - `POST /contract` (TEST ONLY): runs a list of store calls on the Durable Object store.
 */
import { createPlanGate, type PlanGate } from '@plangate/core'
import { createDurableObjectStore, PlanGateStore, type PlanGateStoreNamespace } from '@plangate/cloudflare'
import { requirePlan } from '@plangate/hono'
import { Hono, type MiddlewareHandler } from 'hono'
import { runCalls, type ContractCall } from './contract'

export { PlanGateStore }

/** Never answers reserve in time (a timer keeps it from counting as hung): the store's timeout must. */
export class StalledStore extends PlanGateStore {
  override async reserve(): Promise<never> {
    await new Promise((resolve) => setTimeout(resolve, 30_000))
    throw new Error('stalled')
  }
}

/** Throws on every reserve, as an object whose storage fails would. */
export class FailingStore extends PlanGateStore {
  override async reserve(): Promise<never> {
    throw new Error('storage is unavailable')
  }
}

interface Env {
  PLANGATE_STORE: PlanGateStoreNamespace
  STALLED_STORE: PlanGateStoreNamespace
  FAILING_STORE: PlanGateStoreNamespace
  NVM_API_KEY: string
  NVM_ENVIRONMENT: string
  /** Which of the two services this is, echoed by /health. */
  ISOLATE: string
}

type Mode = 'ask' | 'auto' | 'stalled' | 'failing'

const app = new Hono<{ Bindings: Env }>()
// Built on the first request (bindings are known only then), kept for the isolate's life.
const gates = new Map<Mode, PlanGate>()
const charges = new Map<string, MiddlewareHandler>()

function gateFor(mode: Mode, env: Env): PlanGate {
  let gate = gates.get(mode)
  if (gate === undefined) {
    const namespace = mode === 'stalled' ? env.STALLED_STORE : mode === 'failing' ? env.FAILING_STORE : env.PLANGATE_STORE
    gate = createPlanGate({
      apiKey: env.NVM_API_KEY,
      environment: env.NVM_ENVIRONMENT,
      store: createDurableObjectStore(namespace, { timeoutMs: mode === 'stalled' ? 500 : 5_000 }),
      autoOrder: mode === 'auto' ? { maxOrders: 20, windowMs: 60_000 } : false,
    })
    gates.set(mode, gate)
  }
  return gate
}

// Every answer says which isolate gave it, denials included.
app.use('*', async (c, next) => {
  await next()
  c.res.headers.set('X-Isolate', c.env.ISOLATE)
})

app.get('/health', (c) => c.json({ ok: true, isolate: c.env.ISOLATE }))

app.post('/:mode{ask|auto|stalled|failing}/:plan', (c, next) => {
  const mode = c.req.param('mode') as Mode
  const plan = c.req.param('plan')
  let charge = charges.get(`${mode}:${plan}`)
  if (charge === undefined) {
    charge = requirePlan(plan, { gate: gateFor(mode, c.env) }) as unknown as MiddlewareHandler
    charges.set(`${mode}:${plan}`, charge)
  }
  return charge(c, next)
}, (c) => c.json({ balance: c.get('balance') }))

// TEST ONLY: the store contract, checked against MemoryBalanceStore by the test.
app.post('/contract', async (c) => {
  const { calls } = await c.req.json<{ calls: ContractCall[] }>()
  return c.json({ answers: await runCalls(createDurableObjectStore(c.env.PLANGATE_STORE), calls) })
})

export default app
