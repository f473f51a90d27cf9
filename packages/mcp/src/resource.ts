import type { PlanId } from '@plangate/core'
import { paidHandler } from './paid-call'
import type { McpRequirePlanOptions } from './types'

/**
 * Wraps a resource's read handler (`registerResource`: `(uri, extra)` for a fixed URI,
 * `(uri, variables, extra)` for a template) so that each read is paid from `planId`, as
 * `requirePlan` does for a tool: `cost` credits reserved before `handler` runs, burned once it
 * returns (a read has no error result: a throw or a cancelled read is charged nothing).
 *
 * A read that is not paid for throws `McpError` with code 402 and as `data` the PaymentRequired
 * (x402Version 2, `accepts`, the stable `error` code), and the handler does not run; so does a
 * read whose immediate x402 settle fails (`error: 'SETTLEMENT_FAILED'`: the contents are
 * withheld). A `cost` function gets `{ args: { uri, variables }, extra }`. Throws a `TypeError`
 * for a bad plan id or option, when it is created.
 *
 * @example
 * server.registerResource('report', 'reports://daily', { mimeType: 'text/plain' }, requirePlanForResource(7, { cost: 3 }, async (uri) => ({
 *   contents: [{ uri: uri.href, text: 'the daily report' }],
 * })))
 */
export function requirePlanForResource<H extends (uri: URL, ...rest: never[]) => unknown>(planId: PlanId, options: McpRequirePlanOptions | undefined, handler: H): H {
  return paidHandler('resource', planId, options, handler) as unknown as H
}
