/**
 * `plangate-proxy` (`npx @plangate/proxy`): the command. Exit codes: 0 after a clean shutdown
 * (SIGTERM or SIGINT), 1 when the proxy cannot run (the port is taken), 2 for a mistake in the
 * flags, the config file or the environment. Errors are one line, never a stack.
 */
import packageJson from '../package.json' with { type: 'json' }
import { run, type Started } from './cli/run'
import { UsageError } from './cli/usage-error'

const out = { log: (line: string) => console.log(line), error: (line: string) => console.error(line) }

async function main(): Promise<void> {
  let started: Started | undefined
  try {
    started = await run(process.argv.slice(2), process.env, out, packageJson.version)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    out.error(`plangate-proxy: ${message}`)
    if (error instanceof UsageError) out.error('Run plangate-proxy --help for the flags and the config file.')
    process.exit(error instanceof UsageError ? 2 : 1)
  }
  if (started) stopOnSignals(started)
}

function stopOnSignals({ proxy, planId, ledger }: Started): void {
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      out.error(`plangate-proxy: ${signal} again: exiting without waiting (credits not yet settled are lost).`)
      process.exit(1)
    }
    stopping = true
    out.log(`plangate-proxy: ${signal}: finishing the requests in flight, then settling the credits served.`)
    proxy.close().then(
      () => {
        if (ledger) out.log(`plangate-proxy: ${ledger.redeemed(planId)} credit(s) redeemed on the local ledger.`)
        process.exit(0)
      },
      (error: unknown) => {
        out.error(`plangate-proxy: the shutdown failed: ${error instanceof Error ? error.message : String(error)}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

void main()
