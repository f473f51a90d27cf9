/**
 * `@plangate/core/local`: the local ledger, a Nevermined-compatible API in memory served by a
 * web-standard `fetch` handler (see docs/LOCAL-LEDGER.md). It is the package `@plangate/ledger`,
 * re-exported so a plangate user has it without a second install. Web APIs only: it runs on Node,
 * workerd, Deno and Bun.
 *
 * @example
 * import { createLocalLedger } from '@plangate/core/local'
 * const ledger = createLocalLedger()
 * const owner = ledger.createAccount()
 * const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
 */
export * from '@plangate/ledger'
