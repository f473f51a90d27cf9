/**
 * The store contract (`@plangate/core/testing`) run against MemoryOutboxStore: as a balance store
 * it must answer as MemoryBalanceStore does, call for call, with an order lock that excludes (it
 * stands for a shared store). The contract has no outbox cases yet: those are in
 * memory-outbox.test.ts.
 */
import { describe, it } from 'vitest'
import { MemoryOutboxStore } from '../../src/store'
import { storeContract } from '../../src/testing/index'

storeContract(
  { describe, it },
  {
    name: 'MemoryOutboxStore',
    create: () => new MemoryOutboxStore(),
    createWithClock: (options) => new MemoryOutboxStore(options),
    exclusiveOrderLock: true,
  },
)
