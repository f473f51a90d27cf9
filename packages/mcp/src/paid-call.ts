/**
 * The one wrapper behind `requirePlan` (tools), `requirePlanForResource` and
 * `requirePlanForPrompt`: reserve before the handler runs, burn after it returns, and answer a
 * call that is not paid for as its kind must. Every decision is `@plangate/core`'s (`admit`).
 */
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js'
import { type Lease, type PlanBalance, type PlanGate, type PlanId } from '@plangate/core'
import { admit, chargeNow, commitForReceipt, endLease, resolveRequirePlan, sharedGate, type Admission, type RequirePlanConfig } from '@plangate/core/adapter'
import { credentialOf } from './credential'
import { keepAlive } from './keep-alive'
import { paymentRequiredResult } from './denial'
import { splitParams, type HandlerKind } from './kinds'
import { mcpPaymentError, paymentRequiredError } from './mcp-error'
import { inBandResult, settlementFailed } from './settle-failed'
import type { McpRequirePlanOptions, ToolCall, ToolOutcome, ToolResult } from './types'
import { fromHeaderValue, PAYMENT_RESPONSE_META } from './x402-meta'

type Handler = (...params: unknown[]) => unknown
type Config = RequirePlanConfig<ToolCall, [ToolOutcome]>

const NAMES: Record<HandlerKind, string> = { tool: 'requirePlan', resource: 'requirePlanForResource', prompt: 'requirePlanForPrompt' }

/**
 * Work that carries on after the answer (a release, a batched commit). Node keeps it alive by
 * itself; on Workers the stateless helpers of `@plangate/mcp/web` hand it to `ctx.waitUntil`.
 */
function background(extra: ToolCall['extra'], work: Promise<unknown>): void {
  keepAlive(extra, work)
}

/** Wraps `handler` of `kind`; throws a `TypeError` for a bad plan id, option or handler. */
export function paidHandler(kind: HandlerKind, planId: PlanId, options: McpRequirePlanOptions | undefined, handler: unknown): Handler {
  const name = NAMES[kind]
  if (typeof handler !== 'function') throw new TypeError(`plangate: ${name}(planId, options, handler) needs the ${kind} handler as its third argument.`)
  const config = resolveRequirePlan<ToolCall, [ToolOutcome]>(planId, options, {
    credential: (call) => credentialOf(call.extra),
    resource: (call) => ({ url: requestUrl(call.extra, kind), method: 'POST' }),
  })
  const gate = options?.gate ?? sharedGate()

  return async function paid(...params: unknown[]): Promise<unknown> {
    if (kind === 'tool' && params[0] instanceof URL) {
      // A resource read (uri, …) wrapped as a tool: the in-band tool result would not parse as one.
      throw new McpError(ErrorCode.InternalError, 'plangate: requirePlan wraps tool handlers; wrap a resource handler with requirePlanForResource.')
    }
    const call = splitParams(kind, params)
    const { extra } = call
    let admission: Admission | Promise<Admission> = admit(config, gate, call)
    if (admission instanceof Promise) admission = await admission
    if (!admission.allowed) {
      if (kind === 'tool') return paymentRequiredResult(admission)
      throw paymentRequiredError(admission)
    }
    const { lease } = admission
    if (extra.signal?.aborted) {
      background(extra, lease.release())
      throw extra.signal.reason ?? new Error('The call was cancelled.')
    }
    ;(extra as { balance?: PlanBalance }).balance = lease.balance
    let result: ToolResult
    try {
      result = (await (handler as Handler)(...params)) as ToolResult
    } catch (error) {
      background(extra, lease.release()) // a throw is never charged
      throw error
    }
    // Only a tool has an error result; a resource or a prompt fails by throwing.
    if ((kind === 'tool' && result?.isError === true) || extra.signal?.aborted) {
      background(extra, lease.release())
      return result
    }
    const usage = config.usage && (() => config.usage!({ args: call.args, result }))
    if (admission.receipt === false) {
      background(extra, endLease(lease, 'served', usage))
      return result
    }
    if (admission.receipt.until === 'settle') return settleAtOnce(kind, config, gate, call, lease, usage, result)
    // A shared store's outbox: the answer waits (a while) for the commit to be in the store.
    const commit = commitForReceipt(lease, admission.receipt, usage)
    background(extra, commit.settled)
    const value = fromHeaderValue(await commit.header)
    return value === undefined ? result : withReceipt(result, value)
  }
}

/**
 * An x402 payer settled at once: the result goes out with the settle's receipt in
 * `_meta["x402/payment-response"]`. A settle that fails for good (refused, or its outcome unknown
 * after the gate's retries: `lease.settleFailed`) withholds it, as x402's MCP transport says: a tool
 * gets the in-band PaymentRequired with `error: 'SETTLEMENT_FAILED'`, a resource or a prompt an
 * `McpError` 402 with it as `data`. A charge of 0 settles nothing and withholds nothing.
 */
async function settleAtOnce(kind: HandlerKind, config: Config, gate: PlanGate, call: ToolCall, lease: Lease, usage: (() => number | Promise<number>) | undefined, result: ToolResult): Promise<ToolResult> {
  // Undefined: nothing to commit (a charge of 0, or already taken), so nothing to settle.
  const credits = await chargeNow(lease, usage)
  if (credits === undefined) {
    background(call.extra, lease.release())
    return result
  }
  // The whole settle, retries included: what is withheld must be known to have failed, not be late.
  const receipt = await lease.commit(credits)
  if (receipt) return withReceipt(result, JSON.parse(JSON.stringify(receipt)) as Record<string, unknown>)
  // No receipt, and no failure either (burned, its answer lost but the balance shows it; or left
  // to another process or a later try): the result goes out without a receipt.
  if (lease.settleFailed !== true) return result
  const data = await settlementFailed(gate, config.planId, config.resource(call))
  if (kind === 'tool') return inBandResult(data)
  throw mcpPaymentError(data, 'Settlement failed')
}

function withReceipt(result: ToolResult, receipt: Record<string, unknown>): ToolResult {
  return { ...result, _meta: { ...result._meta, [PAYMENT_RESPONSE_META]: receipt } }
}

/** The MCP endpoint's URL when the transport says it, else a name for the kind of call. */
function requestUrl(extra: ToolCall['extra'], kind: HandlerKind): string {
  const url = (extra?.requestInfo as { url?: URL } | undefined)?.url
  return url === undefined ? `mcp:${kind}` : String(url)
}
