import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { AnySchema, ZodRawShapeCompat } from '@modelcontextprotocol/sdk/server/zod-compat.js'
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js'
import { type PlanId } from '@plangate/core'
import { normalizePlanId } from '@plangate/core/adapter'
import { PRICE_META, priceMeta, type ToolPrice } from './price-meta'
import { requirePlan } from './require-plan'
import type { McpRequirePlanOptions, PaidToolCallback, ToolArgs } from './types'

/** `registerTool`'s config, as `paidTool` takes it: the price goes into `_meta` by itself. */
export interface PaidToolConfig<InputArgs extends ToolArgs, OutputArgs extends ZodRawShapeCompat | AnySchema> {
  title?: string
  description?: string
  inputSchema?: InputArgs
  outputSchema?: OutputArgs
  annotations?: ToolAnnotations
  _meta?: Record<string, unknown>
}

/**
 * Registers a paid tool with its price said once: the handler is wrapped by `requirePlan(planId,
 * options, handler)` and the tool's `_meta` gets `priceMeta` of the same plan and cost, so
 * `tools/list` cannot show a price the call does not charge. A cost that is a function of the
 * call has no price to publish ahead: its `_meta` names only the plan. Throws a `TypeError` for
 * a bad plan id or option, as `requirePlan` does.
 *
 * @example
 * paidTool(server, 'forecast', { inputSchema: { city: z.string() } }, 7, { cost: 2 }, async ({ city }, extra) => ({
 *   content: [{ type: 'text', text: `sunny in ${city}; ${extra.balance.remaining} credits left` }],
 * }))
 */
export function paidTool<InputArgs extends ToolArgs = undefined, OutputArgs extends ZodRawShapeCompat | AnySchema = ZodRawShapeCompat>(
  server: McpServer,
  name: string,
  config: PaidToolConfig<InputArgs, OutputArgs>,
  planId: PlanId,
  options: McpRequirePlanOptions | undefined,
  handler: PaidToolCallback<InputArgs>,
): RegisteredTool {
  // Wrapped first: a bad plan or option throws before anything is registered.
  const paid = requirePlan<InputArgs>(planId, options, handler)
  return server.registerTool<OutputArgs, InputArgs>(name, { ...config, _meta: { ...config._meta, ...publishedPrice(planId, options?.cost) } }, paid)
}

/** What `tools/list` says a call costs: `cost` (default 1), or at most its `max`; only the plan when it is worked out per call. */
function publishedPrice(planId: PlanId, cost: McpRequirePlanOptions['cost']): Record<string, ToolPrice> {
  if (cost === undefined) return priceMeta(planId, 1)
  if (typeof cost === 'number') return priceMeta(planId, cost)
  if (typeof cost === 'object' && typeof cost.max === 'number') return priceMeta(planId, { max: cost.max })
  return { [PRICE_META]: { planId: normalizePlanId(planId) } }
}
