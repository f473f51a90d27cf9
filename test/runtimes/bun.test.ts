import { afterAll, describe, it } from 'vitest'
import { checkAutoOrderFlow, checkConcurrentBurst } from './agent-flow'
import { binary, EXAMPLES, freePort, HOOK_TIMEOUT_MS, localLedgerEnv, start, stopAll } from './process'

afterAll(stopAll, HOOK_TIMEOUT_MS)

describe('examples/hono-worker on Bun (straight from the TypeScript sources)', () => {
  it(
    'spends credits, orders once, answers 402 when the wallet is empty and 401 without a key; a burst shares one order',
    async () => {
      const port = await freePort()
      const args = ['--conditions=plangate-source', 'hono-worker/bun.ts']
      const env = localLedgerEnv({ PORT: String(port), HOST: '127.0.0.1', NO_COLOR: '1' })
      const agent = await start(binary('@oven/bun-linux-x64/bin/bun'), args, { port, cwd: EXAMPLES, env })
      await checkAutoOrderFlow(agent)
      await checkConcurrentBurst(agent)
    },
    HOOK_TIMEOUT_MS,
  )
})
