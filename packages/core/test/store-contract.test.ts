/**
 * The store contract (`@plangate/core/testing`) run against MemoryBalanceStore itself: every
 * case's own expectations hold on the reference, the lease cases on a clock the contract moves.
 */
import { describe, it } from 'vitest'
import { MemoryBalanceStore } from '../src/index'
import { storeContract } from '../src/testing/index'

storeContract(
  { describe, it },
  {
    name: 'MemoryBalanceStore',
    create: () => new MemoryBalanceStore(),
    createWithClock: (options) => new MemoryBalanceStore(options),
  },
)
