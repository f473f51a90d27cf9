/**
 * `@plangate/mcp`: `requirePlan()` for the tools of `@modelcontextprotocol/sdk`'s `McpServer`
 * (and `requirePlanForResource()`, `requirePlanForPrompt()` for its resources and prompts;
 * `paidTool()` registers a tool with its price in `tools/list` and its handler wrapped at once).
 * Each tool call is priced on its own (a fixed cost, or `{ max, usage }` by what it used), the
 * credits reserved before the handler runs and burned after it returns a result that is not an
 * error. Translation only: every decision is `@plangate/core`'s (`admit`, the gate).
 */
export { balanceOf, requirePlan } from './require-plan'
export { paidTool, type PaidToolConfig } from './paid-tool'
export { credentialOf } from './credential'
export { paymentRequiredResult, type PaymentRequiredResult } from './denial'
export { PAYMENT_META, PAYMENT_RESPONSE_META } from './x402-meta'
export { priceMeta, PRICE_META, type ToolPrice } from './price-meta'
export * from '@plangate/core/reexport'

export type { McpRequirePlanOptions, PaidExtra, PaidToolCallback, ServerExtra, ToolArgs, ToolCall, ToolOutcome, ToolResult } from './types'
export { requirePlanForPrompt } from './prompt'
export { requirePlanForResource } from './resource'
export { mcpPaymentError, paymentRequiredError, PAYMENT_REQUIRED_CODE } from './mcp-error'
export { SETTLEMENT_FAILED } from './settle-failed'
