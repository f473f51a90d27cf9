import { type PlanId } from '@plangate/core'
import { normalizePlanId } from '@plangate/core/adapter'

/** The `_meta` key under which a paid tool says its price in `tools/list`. */
export const PRICE_META = 'plangate/price'

/** What a client reads of a paid tool's price: the plan, and the credits (or, priced by usage, the most) a call costs. */
export interface ToolPrice {
  planId: string
  credits?: number
  maxCredits?: number
}

/**
 * The `_meta` that makes a tool's price discoverable in `tools/list`: give it to `registerTool`'s
 * config beside the handler that `requirePlan` wraps, with the same plan and cost.
 *
 * @example
 * server.registerTool('forecast', { inputSchema, _meta: priceMeta(7, 2) }, requirePlan(7, { cost: 2 }, handler))
 */
export function priceMeta(planId: PlanId, cost: number | { max: number }): Record<string, ToolPrice> {
  const plan = normalizePlanId(planId)
  const price: ToolPrice = typeof cost === 'number' ? { planId: plan, credits: cost } : { planId: plan, maxCredits: cost.max }
  const credits = typeof cost === 'number' ? cost : cost.max
  if (!Number.isSafeInteger(credits) || credits < 0) throw new TypeError('plangate: priceMeta(planId, cost): cost must be a non-negative integer, or { max } with one.')
  return { [PRICE_META]: price }
}
