import type { ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { PlanBalance, PlanId } from '@plangate/core'
import { paidHandler } from './paid-call'
import type { McpRequirePlanOptions, PaidToolCallback, ToolArgs } from './types'

/**
 * The caller's balance in a handler a plangate wrapper runs; the same as `extra.balance`, which a
 * tool handler of `requirePlan` has typed, for the resource and prompt wrappers (whose `extra`
 * type is the SDK's) or an `extra` passed on untyped. Throws a `TypeError` elsewhere.
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
 * `(extra)` without; `Args` is inferred from `registerTool`'s `inputSchema`. The handler's
 * `extra` is the SDK's with the caller's balance: `extra.balance` (a `PaidExtra`). Throws a
 * `TypeError` for a bad plan id or option, when it is created.
 *
 * @example
 * server.registerTool('forecast', { inputSchema: { city: z.string() } }, requirePlan(7, { cost: 2 }, async ({ city }, extra) => ({
 *   content: [{ type: 'text', text: `sunny in ${city}; ${extra.balance.remaining} credits left` }],
 * })))
 */
export function requirePlan<Args extends ToolArgs = undefined>(planId: PlanId, options: McpRequirePlanOptions | undefined, handler: PaidToolCallback<Args>): ToolCallback<Args> {
  return paidHandler('tool', planId, options, handler) as unknown as ToolCallback<Args>
}
