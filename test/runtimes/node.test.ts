import { afterAll, describe, it } from 'vitest'
import { checkAutoOrderFlow, checkConcurrentBurst } from './agent-flow'
import { EXAMPLES, freePort, HOOK_TIMEOUT_MS, localLedgerEnv, start, stopAll } from './process'

afterAll(stopAll, HOOK_TIMEOUT_MS)

// test/e2e runs the Node agents in-process; this is the worker's app in its own Node process.
describe('examples/hono-worker on Node (@hono/node-server, a process of its own)', () => {
  it(
    'spends credits, orders once, answers 402 when the wallet is empty and 401 without a key; a burst shares one order',
    async () => {
      const port = await freePort()
      // tsx as a loader, not its CLI: one process, so stopping it stops the server.
      const args = ['--conditions=plangate-source', '--import', 'tsx', 'hono-worker/node.ts']
      const env = localLedgerEnv({ PORT: String(port), HOST: '127.0.0.1' })
      const agent = await start(process.execPath, args, { port, cwd: EXAMPLES, env })
      await checkAutoOrderFlow(agent)
      await checkConcurrentBurst(agent)
    },
    HOOK_TIMEOUT_MS,
  )
})
