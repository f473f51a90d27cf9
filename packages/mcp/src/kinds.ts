import type { ToolCall } from './types'

/**
 * What a wrapped handler is: it decides how the SDK calls it, and how a call that is not paid
 * for is answered. A tool answers in band (x402's MCP transport); a resource read or a prompt has
 * no error result, so it throws `McpError` 402.
 */
export type HandlerKind = 'tool' | 'resource' | 'prompt'

/** The arguments and the `extra` of one call, from the parameters the SDK calls the handler with. */
export function splitParams(kind: HandlerKind, params: unknown[]): ToolCall {
  if (kind === 'resource') {
    // registerResource: (uri, extra) for a fixed URI, (uri, variables, extra) for a template.
    const variables = params.length >= 3 ? params[1] : undefined
    return { args: { uri: params[0], variables }, extra: params[params.length - 1] as ToolCall['extra'] }
  }
  // registerTool and registerPrompt: (args, extra) with a schema, (extra) without.
  return params.length >= 2 ? { args: params[0], extra: params[1] as ToolCall['extra'] } : { args: undefined, extra: params[0] as ToolCall['extra'] }
}
