/**
 * The MCP section (`--only mcp`): a warm paid tool call over Streamable HTTP through plangate's
 * `requirePlan`, beside the same tool unpaid and beside Nevermined's paywall pattern (verify +
 * settle per call, sections/mcp/nevermined.ts), each server in its own process (sections/mcp/server.ts), the load
 * from another (sections/mcp/client.ts), all against the stand-in API (lib/peers/upstream.ts) 0 or 40 ms away.
 */
import { spawnChild, runScript, type Child } from '../../lib/processes'
import { median, table } from '../../lib/report'
import { MCP_KINDS, type McpKind, type McpLoadConfig, type McpLoadResult, type McpSample } from './protocol'

export interface McpOptions {
  delays: number[]
  rounds: number
  concurrency: number
  holders: number
  batchMs: number
  durationMs?: number
  amount?: number
  warmupCalls: number
}

export interface McpGroup {
  delayMs: number
  samples: McpSample[]
  /** Calls made to each server over the run, warm-ups included. */
  made: Partial<Record<McpKind, number>>
  /** What the stand-in answered over the run, by endpoint. */
  upstream: Record<string, number>
}

export async function measureMcp(options: McpOptions, log: (line: string) => void, problems: string[]): Promise<McpGroup[]> {
  const groups: McpGroup[] = []
  for (const delayMs of options.delays) {
    log(`mcp: the API ${delayMs} ms away, ${options.rounds} round(s), ${options.concurrency} in flight`)
    const upstream = await spawnChild('lib/peers/upstream.ts', { holders: options.holders, delayMs, tokens: true })
    const servers = new Map<McpKind, Child>()
    try {
      const r = upstream.ready
      for (const kind of MCP_KINDS) {
        servers.set(kind, await spawnChild('sections/mcp/server.ts', { kind, baseUrl: r.baseUrl!, agentKey: r.agentKey!, agentId: r.agentId!, planId: r.planId!, batchMs: options.batchMs, holders: options.holders }))
      }
      const config: McpLoadConfig = {
        targets: MCP_KINDS.map((kind) => ({ kind, url: `http://127.0.0.1:${servers.get(kind)!.ready.port}/mcp`, credentials: kind === 'nevermined' ? r.tokens! : r.keys })),
        rounds: options.rounds,
        concurrency: options.concurrency,
        warmupCalls: options.warmupCalls,
        ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }),
        ...(options.amount === undefined ? {} : { amount: options.amount }),
      }
      const result = await runScript<McpLoadResult>('sections/mcp/client.ts', [JSON.stringify(config)])
      if (result.failures > 0) problems.push(`mcp (${delayMs} ms): ${result.failures} call(s) failed; the first: ${result.firstFailure}`)
      // Closing the servers flushes plangate's open batch, so the stand-in has seen every settlement.
      await Promise.all([...servers.values()].map((server) => server.close()))
      servers.clear()
      const counters = (await upstream.command('counters')).counters!
      log(`mcp: calls made ${JSON.stringify(result.made)}; the stand-in answered ${JSON.stringify(counters)}`)
      const group = { delayMs, samples: result.samples, made: result.made, upstream: counters }
      problems.push(...checkCalls(group))
      groups.push(group)
    } finally {
      await Promise.all([...servers.values()].map((server) => server.close()))
      await upstream.close()
    }
  }
  return groups
}

/**
 * The stand-in's counts must match the calls made: one verify and one settle per Nevermined-pattern
 * call (its own only: plangate never verifies an API key), and plangate settling at least once
 * (its batches, flushed when its server closed).
 */
export function checkCalls(group: McpGroup): string[] {
  const nevermined = group.made.nevermined ?? 0
  const found: string[] = []
  if (group.upstream.verify !== nevermined) found.push(`mcp (${group.delayMs} ms): ${nevermined} Nevermined-pattern calls but ${group.upstream.verify} verify calls`)
  if ((group.upstream.settle ?? 0) <= nevermined) found.push(`mcp (${group.delayMs} ms): plangate never settled (${group.upstream.settle} settles for ${nevermined} Nevermined-pattern calls)`)
  return found
}

/** Calls to the stand-in per tool call over the whole run (warm-ups included), worked out from its counters. */
function upstreamPerCall(group: McpGroup, kind: McpKind): string {
  const u = group.upstream
  const nevermined = group.made.nevermined ?? 0
  const made = group.made[kind] ?? 0
  if (kind === 'unpaid' || made === 0) return '0'
  if (kind === 'nevermined') return ((u.verify! + nevermined) / made).toFixed(2)
  // Everything else the stand-in answered was plangate's: balances, the plan, orders, its batched settles.
  return (((u.balance ?? 0) + (u.plan ?? 0) + (u.order ?? 0) + (u.settle ?? 0) - nevermined) / made).toFixed(3)
}

const LABELS: Record<McpKind, string> = {
  unpaid: 'unpaid (the tool alone)',
  plangate: 'plangate requirePlan (API key, batched settle)',
  nevermined: 'Nevermined paywall pattern (verify + settle per call, by hand)',
}

const spread = (values: number[]) => `**${median(values).toFixed(2)}** (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`

/** Per delay and server: medians over rounds, and the ratios to the unpaid server taken round by round. */
export function mcpTable(groups: McpGroup[]): string {
  const rows: (string | number)[][] = []
  for (const group of groups) {
    const of = (kind: McpKind) => group.samples.filter((s) => s.kind === kind).sort((a, b) => a.round - b.round)
    const unpaid = of('unpaid')
    for (const kind of MCP_KINDS) {
      const samples = of(kind)
      const ratio = samples.map((s, i) => s.requestsPerSecond / unpaid[i]!.requestsPerSecond)
      rows.push([
        `${group.delayMs} ms`,
        LABELS[kind],
        Math.round(median(samples.map((s) => s.requestsPerSecond))).toLocaleString('en-US'),
        kind === 'unpaid' ? '1' : spread(ratio),
        median(samples.map((s) => s.p50Ms)).toFixed(2),
        median(samples.map((s) => s.p99Ms)).toFixed(2),
        upstreamPerCall(group, kind),
      ])
    }
  }
  return table(['API away', 'server', 'req/s (median)', 'req/s ÷ unpaid, same round (min–max)', 'p50 ms', 'p99 ms', 'stand-in calls per tool call (whole run)'], rows)
}
