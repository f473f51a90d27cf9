/** What the MCP section's orchestrator (sections/mcp/measure.ts), its servers (sections/mcp/server.ts) and its load generator (sections/mcp/client.ts) share. */

/**
 * The server in front of the tool: `unpaid`, the tool alone; `plangate`, the same tool wrapped in
 * `requirePlan` from @plangate/mcp (API key, batched settlement); `nevermined`, the paywall pattern
 * of Nevermined's MCP integration written by hand: verify the caller's x402 token before the tool
 * and settle it after, both upstream, on every call.
 */
export type McpKind = 'unpaid' | 'plangate' | 'nevermined'

export const MCP_KINDS: McpKind[] = ['unpaid', 'plangate', 'nevermined']

export interface McpServerConfig {
  kind: McpKind
  baseUrl: string
  agentKey: string
  agentId: string
  planId: string
  /** plangate's settle.batchMs. */
  batchMs: number
  holders: number
}

export interface McpTarget {
  kind: McpKind
  url: string
  /** The bearer credentials the client rotates through: holders' API keys, or their x402 tokens for `nevermined`. */
  credentials: string[]
}

export interface McpLoadConfig {
  targets: McpTarget[]
  rounds: number
  concurrency: number
  /** Calls per target before each measurement (not counted). */
  warmupCalls: number
  /** Measure for this long per target and round… */
  durationMs?: number
  /** …or this many calls (quick runs). */
  amount?: number
}

export interface McpSample {
  kind: McpKind
  round: number
  calls: number
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
}

export interface McpLoadResult {
  samples: McpSample[]
  /** Calls made to each server, warm-ups included. */
  made: Partial<Record<McpKind, number>>
  /** Answers that were not a successful tools/call result (HTTP status, JSON-RPC error or isError), warm-up included. */
  failures: number
  firstFailure?: string
}
