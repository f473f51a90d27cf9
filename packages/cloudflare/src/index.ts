/**
 * `@plangate/cloudflare`: a Durable Object `BalanceStore` for plangate on Cloudflare Workers
 * (SPEC §7). Web APIs and `cloudflare:workers` only.
 */
export { createDurableObjectStore, type DurableObjectStoreOptions, type PlanGateStoreNamespace, type PlanGateStoreStub } from './durable-object-store'
export { PlanGateStore } from './store-object'
