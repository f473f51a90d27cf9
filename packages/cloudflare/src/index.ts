/**
 * `@plangate/cloudflare`: a Durable Object `BalanceStore` for plangate on Cloudflare Workers, one
 * count for every isolate (see docs/DEPLOY.md, 'One truth for every isolate: the Durable Object
 * store'). Web APIs and `cloudflare:workers` only.
 */
export { createDurableObjectStore, type DurableObjectStoreOptions, type PlanGateStoreNamespace, type PlanGateStoreStub } from './durable-object-store'
export { PlanGateStore } from './store-object'
