/**
 * `plangate-ledger` (`npx @plangate/ledger`): the local ledger over HTTP, seeded with a builder, a
 * funded subscriber and a plan. Node only, unlike the rest of the package. Exit codes: 0 after a
 * clean shutdown (SIGTERM or SIGINT), 1 when it cannot listen, 2 for a bad flag. Errors are one
 * line, never a stack.
 */
import packageJson from '../package.json' with { type: 'json' }
import { parseFlags, type Flags } from './cli/flags'
import { HELP } from './cli/help'
import { describeSeed } from './cli/print'
import { seed } from './cli/seed'
import { listen, urlHost, type Listening } from './cli/serve'
import { UsageError } from './cli/usage-error'
import { createLocalLedger } from './ledger'

const BASE_PATH = '/api/v1'

async function main(): Promise<void> {
  let flags: Flags
  try {
    flags = parseFlags(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`plangate-ledger: ${error.message}`)
    console.error('Run plangate-ledger --help for the flags.')
    process.exit(2)
  }
  if (flags.help) return void console.log(HELP)
  if (flags.version) return void console.log(packageJson.version)

  const ledger = createLocalLedger({ baseUrl: `http://${urlHost(flags.host)}${BASE_PATH}`, serveRedeem: flags.serveRedeem })
  const listening = listen(ledger, flags.host, flags.port)
  // Before anything is printed: without a listener, a signal kills the process outright, so one
  // sent as soon as the seed shows up would not get a clean shutdown.
  stopOnSignals(listening)
  let server: Listening
  try {
    server = await listening
  } catch (error) {
    console.error(`plangate-ledger: cannot listen on ${flags.host}:${flags.port}: ${error instanceof Error ? error.message : String(error)}`)
    if ((error as { code?: string }).code === 'EADDRINUSE') console.error('Pick another port with --port, or --port 0 for any free one.')
    process.exit(1)
  }

  const seeded = seed(ledger, flags, `http://${urlHost(flags.host)}:${server.port}${BASE_PATH}`)
  if (flags.json) console.log(JSON.stringify(seeded))
  else for (const line of describeSeed(seeded)) console.log(line)
  if (!isLoopback(flags.host)) console.error(`plangate-ledger: listening on ${flags.host}, not only loopback: anyone who can reach it can mint keys and spend.`)
}

/** SIGTERM and SIGINT close the server (once it listens), then exit 0; a second signal kills at once. */
function stopOnSignals(listening: Promise<Listening>): void {
  const stop = (signal: NodeJS.Signals) => {
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
    // A server that never listened has nothing to close (main reports why and exits 1).
    listening.then((server) => server.close(), () => undefined).then(
      () => {
        console.error(`plangate-ledger: ${signal}: stopped.`)
        process.exit(0)
      },
      (error: unknown) => {
        console.error(`plangate-ledger: the shutdown failed: ${error instanceof Error ? error.message : String(error)}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host)
}

void main()
