/**
 * OutboxKeeper on MemoryOutboxStore and the local ledger: two keepers on one store stand for two
 * processes of one agent. A keeper that dies is stopped (its timer, as a killed process's) and
 * left as it was; the store's clock is moved past its lease, and the other keeper's next tick
 * claims it and settles what it served.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryOutboxStore } from '../../src/store'
import { OutboxKeeper } from '../../src/outbox/keeper'
import { RecordSeal } from '../../src/outbox/seal'
import { Settler } from '../../src/settle/settler'
import type { Redemption } from '../../src/settle/burner'
import { burnWorld, type BurnWorld } from '../helpers/x402-world'

const LEASE_MS = 30

/** The memory outbox, noting each owner a claim took (to know when a keeper's tick has run). */
class WatchedOutbox extends MemoryOutboxStore {
  readonly claims: string[] = []
  override async claimLapsedOwner(now: number): Promise<string | undefined> {
    const owner = await super.claimLapsedOwner(now)
    if (owner !== undefined) this.claims.push(owner)
    return owner
  }
}

/** What the next settle request does: reach the ledger, reach it and never answer (the process dies after it burned), or never reach it. */
type SettleMode = 'pass' | 'burn, then die' | 'die before'

interface Gate {
  keeper: OutboxKeeper
  settler: Settler
  lost: Array<{ redemption: Redemption; error: Error }>
  /** Reserves `cost` for Alice through the keeper's store and serves it: what a lease's commit does. */
  serve(cost: number): Promise<Redemption>
}

async function twoProcesses() {
  let time = 1_000_000
  const store = new WatchedOutbox({ now: () => time, ownerLeaseMs: LEASE_MS })
  /** `hung`: settles that reached the hook and will never answer. */
  const mode: { next: SettleMode; hung: number } = { next: 'pass', hung: 0 }
  const world: { w?: BurnWorld } = {}
  const w = await burnWorld({}, {
    store,
    before: async (request) => {
      if (!request.url.endsWith('/x402/settle') || mode.next === 'pass') return
      const now = mode.next
      mode.next = 'pass'
      if (now === 'burn, then die') await world.w!.ledger.fetch(request)
      mode.hung++
      await new Promise(() => {}) // the process is gone: this settle never answers
    },
  })
  world.w = w
  const warnings: string[] = []
  const gate = (): Gate => {
    const lost: Gate['lost'] = []
    const late: { settler?: Settler } = {}
    const keeper = new OutboxKeeper({
      outbox: store,
      agentKey: w.agent.apiKey,
      max: 100,
      balance: (planId, holder) => w.client.balance(planId, holder, w.agent.apiKey),
      settle: (r) => late.settler!.add(r),
      onLost: (redemption, error) => void lost.push({ redemption, error }),
      logger: { warn: (m) => void warnings.push(m) },
    })
    const settler = new Settler({ store, burner: keeper.burner(w.x402(3, keeper.store())), batchMs: 0 })
    late.settler = settler
    const serve = async (cost: number) => {
      const held = await keeper.store().reserve(w.key, cost, Date.now(), Infinity)
      if (!held.ok) throw new Error(`expected ${cost} reserved, got ${held.reason}`)
      const r = w.redemption(cost)
      await keeper.commit({ ...r, reservationId: held.reservationId, reserved: cost, cost })
      return r
    }
    return { keeper, settler, lost, serve }
  }
  /** A stopped gate's owner id: its lease let lapse and claimed by hand (nobody else adopts it then). */
  const ownerOf = async (dead: Gate): Promise<string> => {
    await dead.keeper.stop()
    time += LEASE_MS + 1
    const owner = await store.claimLapsedOwner(time)
    if (owner === undefined) throw new Error('no owner lapsed')
    return owner
  }
  return { store, w, mode, gate, ownerOf, warnings, lapse: () => void (time += LEASE_MS + 1) }
}

afterEach(() => vi.useRealTimers())

describe('OutboxKeeper on the memory outbox', () => {
  it('records what a gate serves, sealed, and drops it once the settle is acknowledged', async () => {
    const { store, w, gate, ownerOf } = await twoProcesses()
    const a = gate()
    const r = await a.serve(2)
    const owner = await ownerOf(a)
    expect(await store.ownerKeys(owner)).toEqual([w.key])
    const record = await store.readRecord(w.key, owner)
    expect(record).toMatchObject({ recorded: 2, inFlight: 0, reserved: 0 })
    expect(record!.record).not.toContain(w.alice.apiKey)
    expect(await new RecordSeal(w.agent.apiKey).open(record!.record)).toMatchObject({ planId: w.planId, holderAddress: w.alice.address, payer: r.payer })
    await a.settler.add(r)
    expect(await store.readRecord(w.key, owner)).toMatchObject({ recorded: 0, inFlight: 0 })
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(3)
    expect(await store.snapshot(w.key)).toMatchObject({ pending: 0, acked: 2 })
    // Nothing of it left: closing forgets the owner.
    await a.keeper.close()
    expect(await store.ownerKeys(owner)).toEqual([])
  })

  it('a gate that dies with credits recorded: another adopts them once its lease lapses, and burns them once', async () => {
    const { store, w, gate, lapse, warnings } = await twoProcesses()
    const a = gate()
    await a.serve(2)
    await a.keeper.stop() // killed: nothing settled, nothing dropped
    const b = gate()
    await b.serve(1)
    lapse()
    await vi.waitFor(() => expect(w.ledger.counters.settle).toBe(1), { timeout: 5_000 })
    await b.settler.close()
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(5 - 2)
    expect(await store.snapshot(w.key)).toMatchObject({ pending: 1, reserved: 0 })
    expect(warnings.join('\n')).toMatch(/adopted 2 credit\(s\) of 1 holder/)
    expect(b.lost).toEqual([])
  })

  it('a gate that dies serving a request: its reservation goes back to the holder', async () => {
    const { store, w, gate, lapse } = await twoProcesses()
    const a = gate()
    expect((await a.keeper.store().reserve(w.key, 3, Date.now(), Infinity)).ok).toBe(true)
    await a.serve(1)
    await a.keeper.stop()
    expect((await store.snapshot(w.key)).reserved).toBe(3)
    const b = gate()
    await b.serve(1)
    lapse()
    await vi.waitFor(() => expect(w.ledger.counters.settle).toBe(1), { timeout: 5_000 })
    expect((await store.snapshot(w.key)).reserved).toBe(0)
  })

  it('in flight when its gate died, and the balance shows it burned: judged burned, never sent again', async () => {
    const { store, w, mode, gate, ownerOf, lapse } = await twoProcesses()
    const a = gate()
    const r = await a.serve(2)
    mode.next = 'burn, then die'
    void a.settler.add(r)
    await vi.waitFor(() => expect(mode.hung).toBe(1))
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(3)
    const dead = await ownerOf(a)
    expect(await store.readRecord(w.key, dead)).toMatchObject({ recorded: 0, inFlight: 2, baseline: { upstream: 5, acked: 0, total: 5 } })
    const b = gate()
    lapse() // the hand claim lapses too: b claims the dead owner at its next tick
    await vi.waitFor(async () => expect(await store.ownerKeys(dead)).toEqual([]), { timeout: 5_000 })
    expect(w.ledger.counters.settle).toBe(1)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(3)
    expect(await store.snapshot(w.key)).toMatchObject({ pending: 0 })
    expect(await store.redemptionsInFlight(w.key)).toBe(0)
    expect(b.lost).toEqual([])
  })

  it('in flight when its gate died, and the settle never reached the API: judged not burned, adopted and burned once', async () => {
    const { store, w, mode, gate, ownerOf, lapse, warnings } = await twoProcesses()
    const a = gate()
    const r = await a.serve(2)
    mode.next = 'die before'
    void a.settler.add(r)
    await vi.waitFor(() => expect(mode.hung).toBe(1))
    const dead = await ownerOf(a)
    expect(await store.readRecord(w.key, dead)).toMatchObject({ inFlight: 2 })
    const b = gate()
    lapse()
    await vi.waitFor(() => expect(w.ledger.counters.settle).toBe(1), { timeout: 5_000 }) // b's: a's never arrived
    await b.settler.close()
    expect(warnings.join('\n')).toMatch(/adopted 2 credit/)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(3)
    expect(await store.snapshot(w.key)).toMatchObject({ pending: 0 })
    expect(await store.ownerKeys(dead)).toEqual([])
    expect(b.lost).toEqual([])
  })

  it('in flight when its gate died, and the balance moved otherwise: reported to onLost, never sent again', async () => {
    const { store, w, mode, gate, ownerOf, lapse } = await twoProcesses()
    const a = gate()
    const r = await a.serve(2)
    mode.next = 'burn, then die'
    void a.settler.add(r)
    await vi.waitFor(() => expect(mode.hung).toBe(1))
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(3)
    const dead = await ownerOf(a)
    // Spent elsewhere meanwhile (the agent's own redeem): the balance no longer tells.
    const res = await w.ledger.fetch(`${w.ledger.baseUrl}/protocol/plans/redeem`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${w.agent.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ planId: w.planId, holderAddress: w.alice.address, amount: 1, proof: crypto.randomUUID() }),
    })
    expect(res.status).toBe(200)
    const b = gate()
    lapse()
    await vi.waitFor(async () => expect(await store.ownerKeys(dead)).toEqual([]), { timeout: 5_000 })
    expect(b.lost).toHaveLength(1)
    expect(b.lost[0]!.redemption).toMatchObject({ key: w.key, amount: 2 })
    expect(b.lost[0]!.error.message).toMatch(/does not tell whether it burned; it is not sent again/)
    expect(w.ledger.counters.settle).toBe(1)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(2)
    expect(await store.redemptionsInFlight(w.key)).toBe(0)
    expect(await store.snapshot(w.key)).toMatchObject({ pending: 0 })
  })

  it('another agent’s records (one store, several agents) are left for a process of that agent', async () => {
    const { store, w, gate, ownerOf, lapse } = await twoProcesses()
    const a = gate()
    await a.serve(2)
    const dead = await ownerOf(a)
    const handed: Redemption[] = []
    const other = new OutboxKeeper({
      outbox: store,
      agentKey: 'another agent’s key',
      max: 10,
      balance: (planId, holder) => w.client.balance(planId, holder, w.agent.apiKey),
      settle: (r) => Promise.resolve(void handed.push(r)),
      onLost: () => {},
      logger: { warn: () => {} },
    })
    // Started (registered, ticking) by its first reservation.
    await other.store().reserve(w.key, 0, Date.now(), Infinity)
    lapse()
    await vi.waitFor(() => expect(store.claims.filter((o) => o === dead)).toHaveLength(2), { timeout: 5_000 })
    await other.stop()
    expect(handed).toEqual([])
    expect(await store.readRecord(w.key, dead)).toMatchObject({ recorded: 2 })
    expect(await store.ownerKeys(dead)).toEqual([w.key])
    // A process of the agent that sealed them adopts them once the claim lapses.
    gate()
    lapse()
    await vi.waitFor(() => expect(w.ledger.counters.settle).toBe(1), { timeout: 5_000 })
  })
})
