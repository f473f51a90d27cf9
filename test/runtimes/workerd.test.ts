import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLocalLedger } from '@plangate/core/local'
import { bundleWorker } from '../../examples/hono-worker/bundle'
import { checkAutoOrderFlow, checkConcurrentBurst } from './agent-flow'
import { binary, freePort, HOOK_TIMEOUT_MS, localLedgerEnv, start, stopAll, WORKER_DIR } from './process'

/** examples/hono-worker bundled as wrangler would, served by `workerd serve config.capnp`. */
async function serveWorker(env = localLedgerEnv()) {
  const port = await freePort()
  const args = ['serve', `${WORKER_DIR}config.capnp`, '--socket-addr', `http=127.0.0.1:${port}`]
  return start(binary('workerd/bin/workerd'), args, { port, env })
}

beforeAll(() => bundleWorker(), HOOK_TIMEOUT_MS)
afterAll(stopAll, HOOK_TIMEOUT_MS)

// No nodejs_compat flag: only what Workers offer every script. workerd also refuses to start a
// worker that sets a timer, does I/O or draws random values at module scope.
describe('examples/hono-worker on workerd', () => {
  it(
    'spends credits, orders once, answers 402 when the wallet is empty and 401 without a key; a burst shares one order',
    async () => {
      const worker = await serveWorker()
      await checkAutoOrderFlow(worker)
      await checkConcurrentBurst(worker)
    },
    HOOK_TIMEOUT_MS,
  )

  it(
    'reads NVM_API_KEY and NVM_ENVIRONMENT from the bindings: env(c) builds the gate for the real API',
    async () => {
      const ledger = createLocalLedger() // only to mint well-formed keys
      const agentKey = ledger.createAccount().apiKey
      // Nothing listens on port 9: the gate's upstream call fails, which only a gate built from
      // these bindings would try (without them the worker runs its local ledger instead).
      const worker = await serveWorker(localLedgerEnv({ NVM_API_KEY: agentKey, NVM_ENVIRONMENT: 'http://127.0.0.1:9/api/v1', NVM_PLAN_ID: '42' }))
      expect(await (await fetch(`${worker.url}/health`)).json()).toEqual({ ok: true, mode: 'Nevermined API' })
      expect((await fetch(`${worker.url}/demo/subscriber`, { method: 'POST' })).status).toBe(404)
      const response = await fetch(`${worker.url}/ask`, { method: 'POST', headers: { Authorization: `Bearer ${ledger.createAccount().apiKey}` } })
      expect(response.status, worker.output()).toBe(503)
      expect(await response.json()).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', planId: '42' })
    },
    HOOK_TIMEOUT_MS,
  )
})
