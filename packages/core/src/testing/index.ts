/**
 * `@plangate/core/testing`: the `BalanceStore` contract, for anyone writing a store. It runs the
 * same calls on your store and on MemoryBalanceStore (the reference) and checks that every answer
 * matches, plus what each step must do whatever the store. It imports no test runner: hand it
 * yours (`storeContract({ describe, it }, …)`), or run the checks as plain async functions.
 * See docs/guides/writing-a-store.md.
 */
export { storeContract, storeContractChecks, CONTRACT_CASES, type StoreUnderTest, type ContractRunner, type StoreContractCheck } from './store-contract'
export type { ContractCase, CaseTools, ManualClock } from './case'
export { StoreContractError } from './check'
