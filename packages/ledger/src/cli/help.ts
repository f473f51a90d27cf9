import { DEFAULTS } from './flags'

/** `plangate-ledger --help`. */
export const HELP = `plangate-ledger: an offline Nevermined API for tests and local development.

Serves the local ledger over HTTP, seeded with a builder (owns a plan), a subscriber with funds
and the plan, and prints their addresses and API keys. Everything is in memory.

Usage: npx @plangate/ledger [flags]

  --port <n>       port to listen on; 0 picks a free one (default ${DEFAULTS.port})
  --host <host>    address to listen on (default ${DEFAULTS.host}, loopback only)
  --credits <n>    credits one order of the plan adds (default ${DEFAULTS.credits})
  --price <usd>    what one order costs, in dollars (default ${DEFAULTS.price})
  --funds <usd>    the subscriber's wallet, in dollars (default ${DEFAULTS.funds})
  --serve-redeem   also answer POST /protocol/plans/redeem (for settle: { via: 'redeem' })
  --json           print the seed as one JSON line on stdout, for scripts
  -h, --help       this text
  --version        the version

Exit codes: 0 after SIGINT or SIGTERM, 1 when it cannot listen, 2 for a bad flag.
The calls it answers: docs/LOCAL-LEDGER.md.`
