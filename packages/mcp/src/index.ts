/**
 * `@plangate/mcp`: `requirePlan()` for the tools of `@modelcontextprotocol/sdk`'s `McpServer`.
 * Each tool call is priced on its own (a fixed cost, or `{ max, usage }` by what it used), the
 * credits reserved before the handler runs and burned after it returns a result that is not an
 * error. Translation only: every decision is `@plangate/core`'s (`admit`, the gate).
 */
import {
  admit,
  commitForReceipt,
  endLease,
  resolveRequirePlan,
  sharedGate,
  type Lease,
  type PlanBalance,
  type PlanId,
  type RequirePlanOptions,
} from '@plangate/core'
import { credentialOf, type CallerExtra } from './credential'
import { keepAlive } from './keep-alive'
import { paymentRequiredResult } from './denial'
import { fromHeaderValue, PAYMENT_RESPONSE_META } from './x402-meta'

export { credentialOf } from './credential'
export { paymentRequiredResult, type PaymentRequiredResult } from './denial'
export { PAYMENT_META, PAYMENT_RESPONSE_META } from './x402-meta'
export { priceMeta, PRICE_META, type ToolPrice } from './price-meta'
export * from '@plangate/core/reexport'

/** What the gate is given of a tool call: its arguments (undefined for a tool without an input schema) and the SDK's `extra`. */
export interface ToolCall {
  args: unknown
  extra: CallerExtra & { signal?: AbortSignal }
}

/** What a `usage` function is given once the handler has returned: the call's arguments and its result. */
export interface ToolOutcome {
  args: unknown
  result: ToolResult
}

/** The shape of a tool's result, as far as plangate reads it. */
export interface ToolResult {
  [key: string]: unknown
  isError?: boolean
  _meta?: Record<string, unknown>
}

/** `requirePlan`'s options: as on every adapter; `cost` may be `{ max, usage: ({ args, result }) => credits }`. */
export type McpRequirePlanOptions = RequirePlanOptions<ToolCall, [ToolOutcome]>

/** The `extra` a paid handler gets: the SDK's, with the caller's balance (`use()` it on a route priced by usage). */
export type PaidExtra<Extra> = Extra & { balance: PlanBalance }

/**
 * The caller's balance in a handler `requirePlan` wraps (the SDK's `extra` type does not know it).
 * Throws a `TypeError` elsewhere.
 *
 * @example
 * requirePlan(7, { cost: { max: 20 } }, async (args, extra) => { balanceOf(extra).use(3); return result })
 */
export function balanceOf(extra: object): PlanBalance {
  const balance = (extra as { balance?: PlanBalance }).balance
  if (balance === undefined) throw new TypeError('plangate: balanceOf(extra) works only in a tool handler wrapped by requirePlan.')
  return balance
}

/**
 * Wraps a tool handler so that each call is paid from `planId`: the caller's credential (see
 * `credentialOf`) must hold `cost` credits, reserved before `handler` runs. A result with
 * `isError`, a throw, or a call cancelled (`extra.signal`) is charged nothing. An unpaid call
 * gets x402's in-band answer (`paymentRequiredResult`), and the handler does not run.
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
  if (typeof handler !== 'function') throw new TypeError('plangate: requirePlan(planId, options, handler) needs the tool handler as its third argument.')
  const config = resolveRequirePlan<ToolCall, [ToolOutcome]>(planId, options, {
    credential: (call) => credentialOf(call.extra),
    resource: (call) => ({ url: call.extra.requestInfo && 'url' in call.extra.requestInfo ? String((call.extra.requestInfo as { url?: URL }).url ?? 'mcp:tool') : 'mcp:tool', method: 'POST' }),
  })
  const gate = options?.gate ?? sharedGate()

  const paid = async function paidTool(...params: unknown[]): Promise<ToolResult> {
    // registerTool calls (args, extra) with an input schema, (extra) without.
    const extra = (params.length >= 2 ? params[1] : params[0]) as ToolCall['extra']
    const args = params.length >= 2 ? params[0] : undefined
    let admission = admit(config, gate, { args, extra })
    if (admission instanceof Promise) admission = await admission
    if (!admission.allowed) return paymentRequiredResult(admission)
    const { lease } = admission
    if (extra.signal?.aborted) {
      keepAlive(extra, lease.release())
      throw extra.signal.reason ?? new Error('The tool call was cancelled.')
    }
    ;(extra as { balance?: PlanBalance }).balance = lease.balance
    let result: ToolResult
    try {
      result = await (handler as unknown as (...p: unknown[]) => ToolResult | Promise<ToolResult>)(...params)
    } catch (error) {
      keepAlive(extra, lease.release()) // a throw is never charged
      throw error
    }
    if (result?.isError === true || extra.signal?.aborted) {
      keepAlive(extra, lease.release())
      return result
    }
    return charge(extra, lease, admission.receipt, config.usage && (() => config.usage!({ args, result })), result)
  }
  return paid as unknown as H
}

/** Burns what the call used; an x402 payer settled at once gets the receipt in `_meta`. */
async function charge(extra: ToolCall['extra'], lease: Lease, receipt: false | Parameters<typeof commitForReceipt>[1], usage: (() => number | Promise<number>) | undefined, result: ToolResult): Promise<ToolResult> {
  if (!receipt) {
    keepAlive(extra, endLease(lease, 'served', usage))
    return result
  }
  const commit = commitForReceipt(lease, receipt, usage)
  keepAlive(extra, commit.settled)
  const value = fromHeaderValue(await commit.header)
  return value === undefined ? result : { ...result, _meta: { ...result._meta, [PAYMENT_RESPONSE_META]: value } }
}
