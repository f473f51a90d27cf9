/**
 * The Worker of the Durable Object store test: Hono, `@plangate/hono`, and a gate whose store is
 * `createDurableObjectStore(env.PLANGATE_STORE)`, reaching a local ledger the test serves over
 * loopback (`NVM_ENVIRONMENT`). config.capnp runs it as two Worker services (two isolates, each
 * with its own gate) that share one `PlanGateStore` namespace.
 *
 * - `POST /ask/:plan`: one credit of plan `:plan`, no automatic order (402 when it runs out);
 * - `POST /auto/:plan`: the same, ordering the plan automatically;
 * - `POST /stalled/:plan`, `POST /failing/:plan`: stores whose object is too slow or throws (503);
 * - `POST /lossy/:plan`: `x-cost` credits, answered with status `x-status` after `x-wait` ms, on a
 *   store whose every release fails (it never reaches the object) and whose reservations' lease is
 *   `LOSSY_LEASE_MS`;
 * - `POST /metered/:plan`: priced by usage, `cost: { max: x-max }`; the route reports each of
 *   `x-uses`'s comma-separated values with `balance.use()` and answers with status `x-status`;
 * - `POST /contract` (TEST ONLY): runs a list of store calls on the Durable Object store.
 * - `POST /store` (TEST ONLY): one store call, answered as the store answered it (remote-store.ts).
 */
import { createPlanGate, type PlanGate } from '@plangate/core'
import { createDurableObjectStore, PlanGateStore, type PlanGateStoreNamespace } from '@plangate/cloudflare'
import { requirePlan, type HonoRequirePlanOptions } from '@plangate/hono'
import { Hono, type MiddlewareHandler } from 'hono'
import { runCalls, type ContractCall } from './contract'
import { runStoreCall, type StoreCall } from './remote-store'

export { PlanGateStore }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Takes a reservation only after the store has given up on it (1 s, past its 500 ms time-out). */
export class StalledStore extends PlanGateStore {
  override async reserve(...args: Parameters<PlanGateStore['reserve']>): ReturnType<PlanGateStore['reserve']> {
    await sleep(1_000)
    return super.reserve(...args)
  }
}

/** Takes a reservation at once and answers it too late (1 s). */
export class LateStore extends PlanGateStore {
  override async reserve(...args: Parameters<PlanGateStore['reserve']>): ReturnType<PlanGateStore['reserve']> {
    const outcome = await super.reserve(...args)
    await sleep(1_000)
    return outcome
  }
}

/** Fails every release: a call that never reaches the object, as far as its credits are concerned. */
export class LostReleaseStore extends PlanGateStore {
  override async release(): Promise<never> {
    throw new Error('the release was lost')
  }
}

/** The lease of `/lossy`'s reservations (ms); the test waits past it (durable-object.test.ts has the same). */
const LOSSY_LEASE_MS = 2_500

/** Throws on every reserve, as an object whose storage fails would. */
export class FailingStore extends PlanGateStore {
  override async reserve(): Promise<never> {
    throw new Error('storage is unavailable')
  }
}

interface Env {
  PLANGATE_STORE: PlanGateStoreNamespace
  STALLED_STORE: PlanGateStoreNamespace
  LATE_STORE: PlanGateStoreNamespace
  FAILING_STORE: PlanGateStoreNamespace
  LOST_RELEASE_STORE: PlanGateStoreNamespace
  NVM_API_KEY: string
  NVM_ENVIRONMENT: string
  /** Which of the two services this is, echoed by /health. */
  ISOLATE: string
}

type Mode = 'ask' | 'auto' | 'stalled' | 'failing' | 'lossy' | 'metered'

const app = new Hono<{ Bindings: Env }>()
// Built on the first request (bindings are known only then), kept for the isolate's life.
const gates = new Map<Mode, PlanGate>()
const charges = new Map<string, MiddlewareHandler>()

function gateFor(mode: Mode, env: Env): PlanGate {
  let gate = gates.get(mode)
  if (gate === undefined) {
    const namespace = { stalled: env.STALLED_STORE, failing: env.FAILING_STORE, lossy: env.LOST_RELEASE_STORE, ask: env.PLANGATE_STORE, auto: env.PLANGATE_STORE, metered: env.PLANGATE_STORE }[mode]
    const reservationLeaseMs = mode === 'lossy' ? LOSSY_LEASE_MS : undefined
    gate = createPlanGate({
      apiKey: env.NVM_API_KEY,
      environment: env.NVM_ENVIRONMENT,
      store: createDurableObjectStore(namespace, { timeoutMs: mode === 'stalled' ? 500 : 5_000, reservationLeaseMs }),
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

/** What a request's cost is: `x-cost` credits on `/lossy`, at most `x-max` on `/metered`, else 1. */
function costFor(mode: Mode): HonoRequirePlanOptions['cost'] {
  const header = (c: { req: { header(name: string): string | undefined } }, name: string) => Number(c.req.header(name) ?? 1)
  if (mode === 'lossy') return (c) => header(c, 'x-cost')
  if (mode === 'metered') return { max: (c) => header(c, 'x-max') }
  return 1
}

app.post('/:mode{ask|auto|stalled|failing|lossy|metered}/:plan', (c, next) => {
  const mode = c.req.param('mode') as Mode
  const plan = c.req.param('plan')
  let charge = charges.get(`${mode}:${plan}`)
  if (charge === undefined) {
    charge = requirePlan(plan, { gate: gateFor(mode, c.env), cost: costFor(mode) }) as unknown as MiddlewareHandler
    charges.set(`${mode}:${plan}`, charge)
  }
  return charge(c, next)
}, async (c) => {
  // `/lossy` only: `x-wait` ms of work first (a request that may outlive its lease).
  await sleep(Number(c.req.header('x-wait') ?? 0))
  // `/metered` only: what the work used, as the route reports it.
  for (const n of (c.req.header('x-uses') ?? '').split(',').filter(Boolean)) c.get('balance').use(Number(n))
  return c.json({ balance: c.get('balance') }, Number(c.req.header('x-status') ?? 200) as 200)
})

// TEST ONLY: the store contract, checked against MemoryBalanceStore by the test.
// `store` picks another namespace than PLANGATE_STORE, `timeoutMs` the store's time-out,
// `reservationLeaseMs` its reservations' lease.
app.post('/contract', async (c) => {
  const { calls, store = 'PLANGATE_STORE', timeoutMs, reservationLeaseMs } = await c.req.json<{
    calls: ContractCall[]
    store?: 'PLANGATE_STORE' | 'STALLED_STORE' | 'LATE_STORE' | 'LOST_RELEASE_STORE'
    timeoutMs?: number
    reservationLeaseMs?: number
  }>()
  return c.json({ answers: await runCalls(createDurableObjectStore(c.env[store], { timeoutMs, reservationLeaseMs }), calls) })
})

// TEST ONLY: one store call, its answer as is (reservation ids included), for the store contract
// of @plangate/core/testing run from the test through remote-store.ts.
app.post('/store', async (c) => {
  const call = await c.req.json<StoreCall>()
  return c.json({ answer: (await runStoreCall(createDurableObjectStore(c.env.PLANGATE_STORE), call)) ?? null })
})

export default app
