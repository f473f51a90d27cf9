import type { LedgerBalance } from './types'

/**
 * One holder's credits of one plan. Credits arrive in grants (one per order); a grant may be
 * lagging (charged, but not visible yet), which models an API whose balance trails its orders.
 * Lag and expiry are judged with timestamps from the ledger's clock, never timers, so a ledger
 * holds no timer and tests can move time by hand.
 */
export interface Holding {
  /** Credits bought in the current period (since the last expiry). */
  total: number
  /** Credits redeemed in the current period. */
  used: number
  /** Epoch ms when the credits expire, or null when they never do. */
  expiresAt: number | null
  /** Whether a grant has ever become visible: before that the holder is no subscriber. */
  subscribed: boolean
  /** Grants charged but not yet visible, in order of visibility. */
  pending: Grant[]
}

export interface Grant {
  credits: number
  /** When the order was placed: expiry of the older credits is judged at this instant. */
  orderedAt: number
  /** When the credits show up in balances (= orderedAt without lag). */
  visibleAt: number
  /** When these credits expire, or null for a plan without a duration. */
  expiresAt: number | null
}

export function emptyHolding(): Holding {
  return { total: 0, used: 0, expiresAt: null, subscribed: false, pending: [] }
}

/** Queues a grant, then makes visible every grant whose time has come (this one too if due). */
export function addGrant(holding: Holding, grant: Grant, now: number): void {
  holding.pending.push(grant)
  holding.pending.sort((a, b) => a.visibleAt - b.visibleAt)
  settle(holding, now)
}

/** Applies the grants that are visible at `now`. Call before any read or write of a holding. */
export function settle(holding: Holding, now: number): void {
  while (holding.pending.length > 0 && holding.pending[0]!.visibleAt <= now) {
    apply(holding, holding.pending.shift()!)
  }
}

function apply(holding: Holding, grant: Grant): void {
  // Ordering after the credits expired starts a new period: the old remainder is gone.
  if (isExpired(holding, grant.orderedAt)) {
    holding.total = 0
    holding.used = 0
  }
  holding.total += grant.credits
  // Lagging grants may land out of order; the latest expiry wins, never an earlier one.
  holding.expiresAt = grant.expiresAt === null ? null : Math.max(holding.expiresAt ?? 0, grant.expiresAt)
  holding.subscribed = true
}

export function isExpired(holding: Holding, now: number): boolean {
  return holding.expiresAt !== null && holding.expiresAt <= now
}

export function remaining(holding: Holding): number {
  return holding.total - holding.used
}

/**
 * The balance as the API answers it. The raw remainder is reported even past `expiresAt`: the
 * client is the one that treats expired credits as 0, and tests check that it does.
 */
export function view(holding: Holding | undefined): LedgerBalance {
  if (holding === undefined || !holding.subscribed) {
    return { isSubscriber: false, total: 0, used: 0, remaining: 0, expiresAt: null }
  }
  return {
    isSubscriber: true,
    total: holding.total,
    used: holding.used,
    remaining: remaining(holding),
    expiresAt: holding.expiresAt === null ? null : new Date(holding.expiresAt).toISOString(),
  }
}
