import type { BaseToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { AnySchema, ZodRawShapeCompat } from '@modelcontextprotocol/sdk/server/zod-compat.js'
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js'
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js'
import type { PlanBalance } from '@plangate/core'
import type { RequirePlanOptions } from '@plangate/core/adapter'
import type { CallerExtra } from './credential'

/**
 * What the gate is given of a call: its arguments and the SDK's `extra`. For a tool or a prompt,
 * `args` is what the client sent (undefined without an input or argument schema); for a
 * resource, `{ uri, variables }` (the URL read, and a template's variables, if any).
 */
export interface ToolCall {
  args: unknown
  extra: CallerExtra & { signal?: AbortSignal }
}

/** What a `usage` function is given once the handler has returned: the call's arguments and its result. */
export interface ToolOutcome {
  args: unknown
  result: ToolResult
}

/** The shape of a handler's result, as far as plangate reads it. */
export interface ToolResult {
  [key: string]: unknown
  isError?: boolean
  _meta?: Record<string, unknown>
}

/** `requirePlan`'s options: as on every adapter; `cost` may be `{ max, usage: ({ args, result }) => credits }`. */
export type McpRequirePlanOptions = RequirePlanOptions<ToolCall, [ToolOutcome]>

/** The `extra` the SDK gives every request handler of an `McpServer`. */
export type ServerExtra = RequestHandlerExtra<ServerRequest, ServerNotification>

/**
 * The `extra` a paid handler gets: the SDK's, with the caller's balance (`use()` it on a handler
 * priced by usage).
 *
 * @example
 * requirePlan(7, { cost: { max: 20, usage: () => 0 } }, async (extra: PaidExtra) => (extra.balance.use(3), { content: [] }))
 */
export type PaidExtra<Extra = ServerExtra> = Extra & { balance: PlanBalance }

/** What `registerTool`'s `inputSchema` may be: a Zod raw shape, a schema, or none. */
export type ToolArgs = undefined | ZodRawShapeCompat | AnySchema

/**
 * The handler `requirePlan` wraps: the SDK's `ToolCallback<Args>`, with `extra.balance` typed.
 * `(args, extra)` with an input schema, `(extra)` without.
 */
export type PaidToolCallback<Args extends ToolArgs = undefined> = BaseToolCallback<CallToolResult, PaidExtra, Args>
