import { NeverminedClient } from '../../src/client'
import { X402Burner } from '../../src/settle/x402-burner'
import { RedeemBurner, type BurnHooks } from '../../src/settle/redeem-burner'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '../../src/local/index'
import type { Redemption } from '../../src/settle/burner'
import type { BalanceStore } from '../../src/store/balance-store'
import { MemoryBalanceStore } from '../../src/store/memory-store'
import { HolderTokens } from '../../src/x402/holder-tokens'
import { paymentRequired } from '../../src/x402/payment-required'
import { PlanDirectory } from '../../src/x402/plan-directory'

/**
 * The burners as the gate builds them, on the local ledger: an agent's plan, a subscriber who
 * holds its credits, a real client, plan directory and holder tokens, and a store that has read
 * her balance. What the hooks were told is collected for the test to look at.
 */
export interface BurnWorld {
  ledger: LocalLedger
  agent: LocalAccount
  alice: LocalAccount
  planId: string
  key: string
  client: NeverminedClient
  plans: PlanDirectory
  tokens: HolderTokens
  store: BalanceStore
  burned: Array<{ amount: number; remaining: number | undefined }>
  failed: Array<{ amount: number; error: Error }>
  toppedUp: Redemption[]
  warnings: string[]
  /** Credits the gate's own orders bought (the burner's `bought`): a test moves it. */
  bought: { value: number }
  /** One redemption of `amount` of Alice's credits, paid with her API key. */
  redemption(amount: number): Redemption
  /** `amount` of Alice's credits reserved and served in the store (pending, as the gate leaves them): their redemption. */
  serve(amount: number): Promise<Redemption>
  /** The store reads Alice's balance from the ledger (as the gate does before serving). */
  observe(): Promise<void>
  /** The x402 burner, settling `through` (default the world's store; a keeper's `store()` for an outbox). */
  x402(maxRetries?: number, through?: BalanceStore): X402Burner
  redeem(maxRetries?: number): RedeemBurner
}

export async function burnWorld(plan: { credits?: number; price?: number } = {}, options: { store?: BalanceStore; funds?: number; before?: (request: Request) => Promise<void> | void } = {}): Promise<BurnWorld> {
  const ledger = createLocalLedger({ serveRedeem: true })
  const agent = ledger.createAccount({ funds: 0 })
  const alice = ledger.createAccount({ funds: options.funds ?? 100 })
  const planId = ledger.createPlan({ credits: plan.credits ?? 5, price: plan.price ?? 10, owner: agent.address })
  const ordered = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
  if (ordered.status !== 200) throw new Error(`the order answered ${ordered.status}`)
  // `before` sees each call first (to act on the ledger meanwhile, as another client would).
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    await options.before?.(request.clone())
    return ledger.fetch(request)
  }
  const client = new NeverminedClient({ baseUrl: ledger.baseUrl, fetch, timeoutMs: 2_000 })
  const plans = new PlanDirectory(client, agent.apiKey, {})
  const tokens = new HolderTokens(client, plans, { agentId: undefined, delegationSecs: 3_600, spendingLimitCents: () => 10_000, max: 100 })
  const store = options.store ?? new MemoryBalanceStore()
  const key = `${planId}:${alice.address}`
  const burned: BurnWorld['burned'] = []
  const failed: BurnWorld['failed'] = []
  const hooks: BurnHooks = {
    onBurned: (r, remaining) => void burned.push({ amount: r.amount, remaining }),
    onFailed: (r, error) => void failed.push({ amount: r.amount, error: error as Error }),
  }
  const w: BurnWorld = {
    ledger,
    agent,
    alice,
    planId,
    key,
    client,
    plans,
    tokens,
    store,
    burned,
    failed,
    toppedUp: [],
    warnings: [],
    bought: { value: 0 },
    redemption: (amount) => ({ key, planId, holderAddress: alice.address, amount, payer: { kind: 'key', apiKey: alice.apiKey }, resource: { url: 'https://api.example/ask', method: 'GET' } }),
    serve: async (amount) => {
      const held = await store.reserve(key, amount, Date.now(), Infinity)
      if (!held.ok) throw new Error(`expected ${amount} reserved, got ${held.reason}`)
      await store.commit(key, held.reservationId, amount)
      return w.redemption(amount)
    },
    observe: async () => {
      const startedAt = await store.snapshot(key)
      const balance = await client.balance(planId, alice.address, agent.apiKey)
      await store.observe(key, { remaining: balance.remaining, total: balance.total, expiresAt: null }, startedAt, Date.now())
    },
    x402: (maxRetries = 3, through = store) =>
      new X402Burner({
        client,
        agentKey: agent.apiKey,
        store: through,
        maxRetries,
        tokens,
        paymentRequired: async (r) => paymentRequired(r.planId, (await plans.facts(r.planId)).scheme, undefined, r.resource),
        promised: () => 0,
        bought: () => w.bought.value,
        onToppedUp: (r) => void w.toppedUp.push(r),
        hooks,
        logger: { warn: (message) => void w.warnings.push(message) },
      }),
    redeem: (maxRetries = 3) => new RedeemBurner(client, agent.apiKey, store, maxRetries, hooks),
  }
  await w.observe()
  return w
}
