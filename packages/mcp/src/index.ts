/**
 * `@plangate/mcp`: `requirePlan()` for the tools of `@modelcontextprotocol/sdk`'s `McpServer`
 * (and `requirePlanForResource()`, `requirePlanForPrompt()` for its resources and prompts).
 * Each tool call is priced on its own (a fixed cost, or `{ max, usage }` by what it used), the
 * credits reserved before the handler runs and burned after it returns a result that is not an
 * error. Translation only: every decision is `@plangate/core`'s (`admit`, the gate).
 */
import type { PlanBalance, PlanId } from '@plangate/core'
import { paidHandler } from './paid-call'
import type { McpRequirePlanOptions, ToolResult } from './types'

export { credentialOf } from './credential'
export { paymentRequiredResult, type PaymentRequiredResult } from './denial'
export { PAYMENT_META, PAYMENT_RESPONSE_META } from './x402-meta'
export { priceMeta, PRICE_META, type ToolPrice } from './price-meta'
export * from '@plangate/core/reexport'

export type { McpRequirePlanOptions, PaidExtra, ToolCall, ToolOutcome, ToolResult } from './types'
export { requirePlanForPrompt } from './prompt'
export { requirePlanForResource } from './resource'
export { mcpPaymentError, paymentRequiredError, PAYMENT_REQUIRED_CODE } from './mcp-error'
export { SETTLEMENT_FAILED } from './settle-failed'

/**
 * The caller's balance in a handler `requirePlan` wraps (the SDK's `extra` type does not know it).
 * Throws a `TypeError` elsewhere.
 *
 * @example
 * requirePlan(7, { cost: { max: 20 } }, async (args, extra) => { balanceOf(extra).use(3); return result })
 */
export function balanceOf(extra: object): PlanBalance {
  const balance = (extra as { balance?: PlanBalance }).balance
  if (balance === undefined) throw new TypeError('plangate: balanceOf(extra) works only in a handler wrapped by requirePlan, requirePlanForResource or requirePlanForPrompt.')
  return balance
}

/**
 * Wraps a tool handler so that each call is paid from `planId`: the caller's credential (see
 * `credentialOf`) must hold `cost` credits, reserved before `handler` runs. A result with
 * `isError`, a throw, or a call cancelled (`extra.signal`) is charged nothing. An unpaid call
 * gets x402's in-band answer (`paymentRequiredResult`), and the handler does not run. An x402
 * payer settled at once gets the receipt in `_meta["x402/payment-response"]`; if that settle
 * fails, the result is withheld and replaced by the in-band answer with `error: 'SETTLEMENT_FAILED'`.
 * Resources and prompts have their own wrappers: `requirePlanForResource`, `requirePlanForPrompt`.
 *
 * Both handler shapes of `registerTool` are accepted: `(args, extra)` with an input schema and
 * `(extra)` without. Throws a `TypeError` for a bad plan id or option, when it is created.
 *
 * @example
 * server.registerTool('forecast', { inputSchema: { city: z.string() } }, requirePlan(7, { cost: 2 }, async ({ city }, extra) => ({
 *   content: [{ type: 'text', text: `sunny in ${city}; ${balanceOf(extra).remaining} credits left` }],
 * })))
 */
export function requirePlan<H extends (...args: never[]) => ToolResult | Promise<ToolResult>>(planId: PlanId, options: McpRequirePlanOptions | undefined, handler: H): H {
  return paidHandler('tool', planId, options, handler) as unknown as H
}
