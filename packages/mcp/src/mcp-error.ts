import type { Denial } from '@plangate/core/adapter'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { paymentRequiredResult } from './denial'

/** The JSON-RPC error code x402's MCP transport (and `@x402/mcp`) gives a payment required outside a tool result. */
export const PAYMENT_REQUIRED_CODE = 402

/**
 * A resource read or a prompt that is not paid for, as an `McpError` to throw: code 402, and as
 * `data` the same PaymentRequired a tool call gets in `structuredContent` (x402Version 2,
 * `accepts` from the gate, the stable `error` code, `detail`). Neither holds a key or a stack.
 */
export function paymentRequiredError(denial: Denial): McpError {
  return mcpPaymentError(paymentRequiredResult(denial).structuredContent, denial.body.title)
}

/** An `McpError` 402 carrying `data` (a PaymentRequired); the message names the problem, never a secret. */
export function mcpPaymentError(data: { error: string; detail?: unknown }, title = 'Payment required'): McpError {
  const detail = typeof data.detail === 'string' && data.detail !== '' ? `: ${data.detail}` : ''
  return new McpError(PAYMENT_REQUIRED_CODE, `${title} (${data.error})${detail}`, data)
}
