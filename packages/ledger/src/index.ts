/**
 * `@plangate/ledger`: the local ledger, a Nevermined-compatible API in memory served by a
 * web-standard `fetch` handler (see docs/LOCAL-LEDGER.md), for anyone's tests; plangate re-exports
 * it as `@plangate/core/local`. Web APIs only: it runs on Node, workerd, Deno and Bun. The command
 * `npx @plangate/ledger` serves it over HTTP (src/cli.ts, Node only).
 *
 * @example
 * import { createLocalLedger } from '@plangate/ledger'
 * const ledger = createLocalLedger()
 * const owner = ledger.createAccount()
 * const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
 */
export { createLocalLedger } from './ledger'
export type {
  LedgerBalance,
  LedgerEndpoint,
  LedgerFault,
  LocalAccount,
  LocalLedger,
  LocalLedgerOptions,
} from './types'
