/**
 * A Worker as a user writes one, compiled with the Workers types (`@cloudflare/workers-types`, no
 * DOM) by scripts/check-packages.sh (after the build): the binding's own type, `DurableObjectNamespace<PlanGateStore>`,
 * is what `createDurableObjectStore` takes, and `PlanGateStore` is a Durable Object class there.
 */
import { createPlanGate } from '@plangate/core'
import { createDurableObjectStore, PlanGateStore } from '@plangate/cloudflare'

export { PlanGateStore }

interface Env {
  PLANGATE_STORE: DurableObjectNamespace<PlanGateStore>
  NVM_API_KEY: string
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    const store = createDurableObjectStore(env.PLANGATE_STORE, { timeoutMs: 2_000 })
    const gate = createPlanGate({ apiKey: env.NVM_API_KEY, store })
    // The stub's own RPC types line up with the store's.
    const stub = env.PLANGATE_STORE.get(env.PLANGATE_STORE.idFromName('plan:0x01'))
    const snapshot: { epoch: number } = await stub.snapshot('plan:0x01')
    return Response.json({ epoch: snapshot.epoch, store: gate.store === store })
  },
} satisfies ExportedHandler<Env>
