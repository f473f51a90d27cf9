/**
 * Section 3: heap per cached holder. Run by the orchestrator as
 * `node --expose-gc --import tsx --conditions=plangate-source memory.ts <holders…>`.
 *
 * The gate's upstream is a stub that keeps no state (every holder has a big balance), so all the
 * growth is the gate's: the balance store entry and the "accepted key" entry of each holder, and
 * the x402 token the gate got for the holder's settlement (made at `close()`, which settles).
 */
import { createPlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { PLAN_DURATION_SECONDS } from '../../lib/setup'

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('bench/sections/memory/memory.ts needs node --expose-gc')

// Expiring a year from now, as the throughput runs' plan does: the gate keeps each lease's expiry.
const EXPIRES_AT = new Date(Date.now() + PLAN_DURATION_SECONDS * 1000).toISOString()
const BALANCE = JSON.stringify({ isSubscriber: true, total: 1e9, used: 0, remaining: 1e9, expiresAt: EXPIRES_AT })
const REDEEMED = JSON.stringify({ success: true, creditsRedeemed: 1, remainingBalance: 1e9 - 1 })
// The x402 calls the gate makes at settlement (the default): the plan's scheme, each API-key
// holder's delegation and token (a fresh string per holder of the local ledger's token length), the settle.
const PLAN = JSON.stringify({ id: '7', registry: { price: { isCrypto: true, amounts: ['1000000'] }, credits: { amount: '1000000000', durationSecs: '0' } }, metadata: { plan: {} } })
const DELEGATION = JSON.stringify({ delegationId: 'delegation-1' })
const SETTLED = JSON.stringify({ success: true, transaction: `0x${'0'.repeat(64)}`, network: 'eip155:84532', creditsRedeemed: '1', remainingBalance: String(1e9 - 1) })
let tokens = 0
function answer(url: string): string {
  if (url.endsWith('/redeem')) return REDEEMED
  if (url.endsWith('/delegation/create')) return DELEGATION
  if (url.endsWith('/x402/permissions')) return JSON.stringify({ accessToken: `${'t'.repeat(650)}${++tokens}` })
  if (url.endsWith('/x402/settle')) return SETTLED
  if (url.endsWith('/protocol/plans/7')) return PLAN
  return BALANCE
}
const stub = async (input: Request | string | URL) =>
  new Response(answer(input instanceof Request ? input.url : String(input)), { headers: { 'Content-Type': 'application/json' } })

export interface MemoryResult {
  holders: number
  /** Bytes of heap per holder, while cached. */
  bytesPerHolder: number
  heapGrowthMb: number
  /** Left after the gate is dropped (should be about 0: nothing leaks past the gate). */
  leftAfterDropMb: number
}

function heap(): number {
  for (let i = 0; i < 4; i++) gc!()
  return process.memoryUsage().heapUsed
}

/** Keys in the real format (about 330 characters), minted by a throwaway ledger. */
function mintKeys(holders: number): string[] {
  const minter = createLocalLedger()
  const keys = Array.from({ length: holders }, () => minter.createAccount().apiKey)
  // Flat copies: the minted keys are ropes that V8 flattens on first use, which would free
  // memory in the middle of the measurement.
  return JSON.parse(JSON.stringify(keys)) as string[]
}

async function measure(holders: number): Promise<MemoryResult> {
  const keys = mintKeys(holders)
  // Before the gate exists: lru-cache allocates its arrays for `max` entries up front.
  const before = heap()
  let gate: ReturnType<typeof createPlanGate> | undefined = createPlanGate({
    apiKey: keys[0]!,
    environment: 'http://stub.local/api/v1',
    fetch: stub,
    cache: { max: holders, ttlMs: 3_600_000 },
  })
  // Twice each: the first request is the cold path; only a warm one leaves everything a holder
  // keeps in steady state (the lease's expiry text is kept from the second request on).
  for (let round = 0; round < 2; round++) {
    for (const key of keys) {
      const lease = await gate.reserve('7', key, 1)
      lease.commit()
    }
  }
  await gate.close()
  const cached = heap()
  gate = undefined
  const dropped = heap()
  // The keys must live to the end, or V8 frees them mid-measurement (dead after the loop).
  if (keys.length !== holders) throw new Error('unreachable')
  return {
    holders,
    bytesPerHolder: (cached - before) / holders,
    heapGrowthMb: (cached - before) / 2 ** 20,
    leftAfterDropMb: (dropped - before) / 2 ** 20,
  }
}

const counts = process.argv.slice(2).filter((arg) => /^\d+$/.test(arg)).map(Number)
const results: MemoryResult[] = []
await measure(1_000) // compiles the code paths first, so their code is not counted as holders' memory
for (const holders of counts.length ? counts : [10_000, 100_000]) results.push(await measure(holders))
console.log(JSON.stringify(results))
