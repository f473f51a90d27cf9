import type { PlanId } from '@plangate/core'
import { paidHandler } from './paid-call'
import type { McpRequirePlanOptions } from './types'

/**
 * Wraps a prompt's handler (`registerPrompt`: `(args, extra)` with an argument schema, `(extra)`
 * without) so that each `prompts/get` is paid from `planId`, as `requirePlan` does for a tool:
 * `cost` credits reserved before `handler` runs, burned once it returns (a prompt has no error
 * result: a throw or a cancelled call is charged nothing).
 *
 * A call that is not paid for throws `McpError` with code 402 and as `data` the PaymentRequired
 * (x402Version 2, `accepts`, the stable `error` code), and the handler does not run; so does a
 * call whose immediate x402 settle fails (`error: 'SETTLEMENT_FAILED'`: the messages are
 * withheld). A prompt's call looks like a tool's to the wrapper, so it must be wrapped with this
 * function, not `requirePlan`. Throws a `TypeError` for a bad plan id or option, when it is created.
 *
 * @example
 * server.registerPrompt('review', { argsSchema: { code: z.string() } }, requirePlanForPrompt(7, { cost: 1 }, ({ code }) => ({
 *   messages: [{ role: 'user', content: { type: 'text', text: `Review this code:\n${code}` } }],
 * })))
 */
export function requirePlanForPrompt<H extends (...args: never[]) => unknown>(planId: PlanId, options: McpRequirePlanOptions | undefined, handler: H): H {
  return paidHandler('prompt', planId, options, handler) as unknown as H
}
