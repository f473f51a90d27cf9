/**
 * The per-call section (`--only calls`): what one upstream call costs the server's CPU, through
 * plangate and as a bare `fetch` of the same request (the floor), measured in one process
 * (sections/calls/client.ts) against the stand-in API in another (lib/peers/upstream.ts, answering at once), so
 * the stand-in's own work is not counted.
 */
import { spawnChild, runScript } from '../../lib/processes'
import { median, table } from '../../lib/report'
import type { AnswerCheck, CallSeries, CallsConfig, CallsResult } from './protocol'

export interface CallsOptions {
  calls: number
  rounds: number
  concurrency: number
  holders: number
}

/** The target of a call's server CPU through Node's fetch, µs. */
export const TARGET_MICROS = 250

export async function measureCalls(options: CallsOptions, log: (line: string) => void): Promise<CallsResult> {
  log(`calls: ${options.calls} calls of each kind and way, ${options.rounds} rounds, ${options.concurrency} in flight`)
  const upstream = await spawnChild('lib/peers/upstream.ts', { holders: options.holders, delayMs: 0, tokens: true })
  try {
    const r = upstream.ready
    const config: CallsConfig = {
      baseUrl: r.baseUrl!,
      agentKey: r.agentKey!,
      agentId: r.agentId!,
      planId: r.planId!,
      keys: r.keys,
      tokens: r.tokens!,
      calls: options.calls,
      rounds: options.rounds,
      concurrency: options.concurrency,
    }
    return await runScript<CallsResult>('sections/calls/client.ts', [JSON.stringify(config)])
  } finally {
    await upstream.close()
  }
}

const us = (n: number) => n.toFixed(0)
const signed = (n: number) => `${n < 0 ? '−' : '+'}${Math.abs(n).toFixed(0)}`
const spread = (values: number[]) => `**${median(values).toFixed(2)}** (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`

/** Per kind: the floor, plangate's client over it (per-round ratios), and through createNodeFetch. */
export function callsTable(series: CallSeries[]): string {
  const find = (kind: string, way: string) => series.find((s) => s.kind === kind && s.way === way)
  const rows: (string | number)[][] = []
  for (const kind of new Set(series.map((s) => s.kind))) {
    if (kind === 'settle (gate)') continue
    const floor = find(kind, 'floor')!.cpuMicrosPerCall
    const client = find(kind, 'client')!.cpuMicrosPerCall
    const node = find(kind, 'client, createNodeFetch')?.cpuMicrosPerCall
    rows.push([
      kind,
      us(median(floor)),
      us(median(client)),
      spread(client.map((c, i) => c / floor[i]!)),
      signed(median(client.map((c, i) => c - floor[i]!))),
      node ? us(median(node)) : '–',
    ])
  }
  const settle = find('settle', 'floor')?.cpuMicrosPerCall
  const gate = find('settle (gate)', 'gate settle')?.cpuMicrosPerCall
  const batched = find('settle (gate)', 'gate batched')?.cpuMicrosPerCall
  const gateNode = find('settle (gate)', 'gate settle, createNodeFetch')?.cpuMicrosPerCall
  if (settle && gate && batched) {
    // A settle's whole cost to the gate: an immediate request's, less a batched one's (no call).
    const own = gate.map((g, i) => g - batched[i]!)
    rows.push([
      'settle, whole (a request: reserve + commit, immediate, less the same batched)',
      us(median(settle)),
      us(median(own)),
      spread(own.map((o, i) => o / settle[i]!)),
      signed(median(own.map((o, i) => o - settle[i]!))),
      gateNode ? us(median(gateNode.map((g, i) => g - batched[i]!))) : '–',
    ])
  }
  const here = find('settle (gate)', 'gate settle, answered in process')?.cpuMicrosPerCall
  if (here && batched) {
    // No transport at all: what is left is plangate's own work per settle.
    rows.push(['settle, whole, answered in process (no HTTP: plangate\'s own work)', '–', us(median(here.map((g, i) => g - batched[i]!))), '–', '–', '–'])
  }
  return table(['call', 'floor: bare fetch, µs CPU', 'plangate (Node fetch), µs CPU', '÷ floor (min–max)', 'over the floor, µs', 'plangate (createNodeFetch), µs CPU'], rows)
}

/** The answers' checks alone: zod's schema against the hand-checked reader, µs per answer. */
export function checksTable(checks: AnswerCheck[]): string {
  const rows = checks.map((c) => [c.kind, median(c.zodMicros).toFixed(2), median(c.handMicros).toFixed(2), (median(c.zodMicros) / median(c.handMicros)).toFixed(0)])
  return table(['answer', 'zod safeParse, µs CPU', 'hand-checked, µs CPU', 'zod ÷ hand'], rows)
}
