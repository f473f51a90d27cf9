import { afterAll, describe, it } from 'vitest'
import { checkAutoOrderFlow, checkConcurrentBurst } from './agent-flow'
import { binary, EXAMPLES, freePort, HOOK_TIMEOUT_MS, localLedgerEnv, start, stopAll } from './process'

afterAll(stopAll, HOOK_TIMEOUT_MS)

describe('examples/hono-worker on Deno (deno serve, straight from the TypeScript sources)', () => {
  it(
    'spends credits, orders once, answers 402 when the wallet is empty and 401 without a key; a burst shares one order',
    async () => {
      const port = await freePort()
      const args = [
        'serve',
        ...['--host', '127.0.0.1', '--port', String(port)],
        '--allow-env', // hono's env(c) reads Deno.env.toObject(), which needs all of the environment
        '--no-config',
        // The workspace packages as the examples see them (node_modules, their plangate-source
        // export pointing at ./src), whose imports omit the .ts extension: sloppy imports.
        '--node-modules-dir=manual',
        '--conditions=plangate-source',
        '--unstable-sloppy-imports',
        'hono-worker/worker.ts',
      ]
      const env = localLedgerEnv({ DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' })
      const agent = await start(binary('deno/deno'), args, { port, cwd: EXAMPLES, env })
      await checkAutoOrderFlow(agent)
      await checkConcurrentBurst(agent)
    },
    HOOK_TIMEOUT_MS,
  )
})
