/**
 * `pnpm bench`: what plangate costs a server. BENCHMARKS.md (at the repository root) says what each
 * figure means and how it was taken.
 *
 *   pnpm bench                     every section but instructions, full length (about an hour on 2 cores)
 *   pnpm bench --quick             a few hundred requests per server, the peer servers included (CI; also
 *                                  BENCH_QUICK=1): exits non-zero when the harness breaks (non-2xx, wrong
 *                                  counts), never on speed
 *   pnpm bench --only peers        some sections: peers, scale, window, redis, calls, mcp, throughput, workloads,
 *                                  memory, micro, usage, allocation (comma-separated)
 *   pnpm bench --only window       settle.batchMs (and maxCredits) against upstream calls per request and the
 *                                  credits served but not yet settled, with 100 and 10,000 holders
 *   pnpm bench --only calls        server CPU per upstream call (settle, balance, verify, token calls),
 *                                  through plangate beside a bare fetch of the same request (--calls N)
 *   pnpm bench --only redis        plangate on the Redis store (@plangate/redis) beside the memory store and
 *                                  bare, with Redis round trips per request, and the orders a burst takes
 *                                  across 4 processes on one Redis (needs redis-server; the bench starts its own)
 *   pnpm bench --only peers --delays 0,40 --routes const,cpu,wait --holders 100
 *                                  the peer table: plangate beside Nevermined's paymentMiddleware and
 *                                  @x402/express / @x402/hono, against one stand-in API whose every call
 *                                  waits the given milliseconds
 *   pnpm bench --only mcp          a warm paid MCP tool call over Streamable HTTP (@plangate/mcp requirePlan)
 *                                  beside the same tool unpaid and Nevermined's paywall pattern (verify +
 *                                  settle per call, by hand), the stand-in API 0 and 40 ms away (--delays)
 *   pnpm bench --only instructions instructions per request under valgrind's callgrind: independent of the
 *                                  machine's load, but slow (minutes per server), so not in the default run
 *   pnpm bench --framework hono    one framework in the throughput section (also --upstream in-process|http,
 *                                  --settle immediate|batched, --route sync|async)
 *   pnpm bench --rounds 5 --duration 5 --connections 32 --subscribers 100 --batch-ms 1000
 *   pnpm bench --compare HEAD      also measure the packages as they are at a git ref (before/after)
 *   pnpm bench --profile           CPU profiles of every server, in bench/results/profiles/<server>/
 *   pnpm bench --dist              load the packages' builds (run `pnpm build` first) instead of their
 *                                  sources: what users run (a --compare baseline is built too)
 *
 *   pnpm bench --charts-only       draw the charts again from bench/charts/results.json, measuring nothing
 *   pnpm bench --charts <dir>      where results.json is merged and the charts drawn (default bench/charts/
 *                                  for a full run; a quick run draws into a temporary directory)
 *
 * The tables go to stdout and to bench/results/latest.md, the raw results to bench/results/latest.json;
 * a full run also merges the sections it measured into bench/charts/results.json (the committed
 * figures, with the command and commit behind each section) and draws the SVG charts beside it
 * (charts/render.ts). Progress goes to stderr.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { parseArgs } from 'node:util'
import { measureAllocation } from './sections/allocation/allocation'
import { mcpTable, measureMcp } from './sections/mcp/section'
import { callsTable, checksTable, measureCalls } from './sections/calls/section'
import { prepareBaseline, type Baseline } from './lib/baseline'
import type { MemoryResult } from './sections/memory/memory'
import type { MicroResult } from './sections/micro/micro'
import type { UsageResult } from './sections/usage/usage'
import { usageTable } from './sections/usage/report'
import { hasCallgrind, measureInstructions, type InstructionServer } from './sections/instructions/instructions'
import { BENCH_DIR, runScript, useBuiltPackages } from './lib/processes'
import { allocationTable, instructionTable, memoryTable, microTable, throughputTable, workloadTable } from './lib/report'
import { measurePeers } from './lib/peers/harness'
import { callBreakdown, peerTable, scaleTable } from './sections/peers/report'
import type { PeerRoute } from './lib/peers/protocol'
import { measureScale } from './sections/scale/scale'
import { redisSection } from './sections/redis/section'
import { measureThroughput, VARIANTS } from './sections/throughput/throughput'
import { checkWorkload, type WorkloadResult } from './sections/workloads/workloads'
import { CHARTS_DIR, mergeResults, provenance, readResults, type BenchResults } from './charts/results'
import { renderCharts } from './charts/render'
import { measureWindows, windowSettings, windowTable } from './sections/window/window'

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: process.env.BENCH_QUICK === '1' },
    only: { type: 'string', default: 'peers,scale,window,redis,calls,mcp,throughput,workloads,memory,micro,usage,allocation' },
    calls: { type: 'string' },
    delays: { type: 'string' },
    routes: { type: 'string' },
    holders: { type: 'string' },
    framework: { type: 'string' },
    upstream: { type: 'string' },
    settle: { type: 'string' },
    route: { type: 'string' },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    subscribers: { type: 'string' },
    'batch-ms': { type: 'string' },
    compare: { type: 'string' },
    profile: { type: 'boolean', default: false },
    dist: { type: 'boolean', default: false },
    'charts-only': { type: 'boolean', default: false },
    charts: { type: 'string' },
  },
})

// The charts again from the committed results, measuring nothing (a clean clone needs no run).
if (flags['charts-only']) {
  const dir = flags.charts ?? CHARTS_DIR
  const written = await renderCharts(readResults(join(dir, 'results.json')), dir)
  console.error(`bench: ${written.length} chart(s) drawn from ${join(dir, 'results.json')} into ${dir}`)
  process.exit(0)
}

const quick = flags.quick
const sections = new Set(flags.only.split(','))
const number = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value))
const batchMs = number(flags['batch-ms'], 1_000)
const rounds = number(flags.rounds, quick ? 1 : 3)
const WORKLOAD_BATCH_MS = 50
const log = (line: string) => console.error(line)
if (flags.dist) useBuiltPackages()
const baseline: Baseline | undefined = flags.compare ? prepareBaseline(flags.compare, { build: flags.dist }) : undefined
const THIS = 'this checkout'
const problems: string[] = []
/** What the charts are drawn from (./charts/), section by section. */
const results: BenchResults = {}
const taken = provenance(process.argv.slice(2), quick)
const output: string[] = [
  `# plangate benchmarks${quick ? ' (quick: checks the harness, the figures mean nothing)' : ''}`,
  '',
  `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}`,
  `Flags: ${process.argv.slice(2).join(' ') || '(none)'}${baseline ? `; baseline: ${baseline.label}` : ''}; packages loaded from ${flags.dist ? 'their dist/ builds' : 'their sources (tsx)'}`,
  '',
]

async function throughput(): Promise<string[]> {
  const subscribers = number(flags.subscribers, 100)
  const results = await measureThroughput(
    {
      frameworks: flags.framework ? [flags.framework as 'express' | 'hono'] : ['express', 'hono'],
      variants: VARIANTS.filter(
        (v) => (flags.upstream ?? v.upstream) === v.upstream && (flags.settle ?? v.settle) === v.settle && (flags.route ?? v.route) === v.route,
      ),
      rounds,
      duration: number(flags.duration, 5),
      ...(quick ? { amount: 300 } : {}),
      warmupSeconds: quick ? 0 : 2,
      connections: number(flags.connections, 32),
      subscribers,
      batchMs,
      ...(baseline ? { baseline } : {}),
      ...(flags.profile ? { profileDir: `${BENCH_DIR}results/profiles` } : {}),
    },
    log,
  ).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return [`## Throughput and latency (${subscribers} subscribers, ${rounds} rounds)`, '', throughputTable(results, batchMs), '']
}

const frameworks = (): ('express' | 'hono')[] => (flags.framework ? [flags.framework as 'express' | 'hono'] : ['express', 'hono'])
const loadLength = () => ({ duration: number(flags.duration, 5), ...(quick ? { amount: 200 } : {}), warmupSeconds: quick ? 0 : 1, connections: number(flags.connections, 32) })

async function peers(): Promise<string[]> {
  const delays = (flags.delays ?? (quick ? '0' : '0,40')).split(',').map(Number)
  const routes = (flags.routes ?? (quick ? 'const' : 'const,cpu,wait')).split(',') as PeerRoute[]
  const holders = number(flags.holders, quick ? 4 : 100)
  const groups = await measurePeers({ frameworks: frameworks(), delays, routes, rounds, holders, batchMs, ...loadLength() }, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  if (groups.length > 0) results.peers = { provenance: taken, results: groups }
  return [
    `## Peers: what each middleware adds, the API ${delays.join(' or ')} ms away (${holders} holders, ${rounds} rounds, batch window ${batchMs} ms)`,
    '',
    peerTable(groups),
    '',
    callBreakdown(groups),
    '',
  ]
}

async function scale(): Promise<string[]> {
  const holderCounts = quick ? [1, 100] : [1, 100, 10_000]
  const delayMs = quick ? 0 : 40
  const measured = await measureScale({ frameworks: frameworks(), holderCounts, delayMs, rounds, batchMs, ...loadLength() }, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  if (measured.length > 0) results.scale = { provenance: taken, results: measured }
  return [
    `## Scale: holders active at once (plangate batched, API key, the API ${delayMs} ms away, ${rounds} rounds)`,
    '',
    scaleTable(measured),
    '',
    'Several processes sharing balances through the Redis store: the Redis section (`--only redis`).',
    '',
  ]
}

async function window(): Promise<string[]> {
  const holderCounts = flags.holders ? flags.holders.split(',').map(Number) : quick ? [4] : [100, 10_000]
  const delayMs = flags.delays ? Number(flags.delays.split(',')[0]) : quick ? 0 : 40
  // A window of 5 s needs a run of several to show its steady state.
  const duration = number(flags.duration, 10)
  const framework = frameworks()[0] === 'express' && flags.framework ? 'express' : 'hono'
  const settings = windowSettings(quick)
  const measured = await measureWindows({ framework, holderCounts, settings, delayMs, rounds, ...loadLength(), duration }, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  if (measured.length > 0) results.window = { provenance: taken, results: measured }
  return [
    `## Choosing a window: calls per request against credits served and not yet settled (${framework === 'express' ? 'Express 5' : 'Hono'}, API key, constant route, the API ${delayMs} ms away, ${rounds} rounds of ${quick ? 'a few hundred requests' : `${duration} s`})`,
    '',
    windowTable(measured),
    '',
  ]
}

async function redis(): Promise<string[]> {
  const delays = (flags.delays ?? (quick ? '0' : '0,40')).split(',').map(Number)
  const holders = number(flags.holders, quick ? 4 : 100)
  const options = { delays, holders, rounds, batchMs, burst: quick ? { requests: 100, credits: 25 } : { requests: 200, credits: 25 }, ...loadLength() }
  return redisSection(options, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
}

async function calls(): Promise<string[]> {
  // Five rounds at least: CPU time per call on a shared machine varies from round to round.
  const options = { calls: number(flags.calls, quick ? 60 : 2_000), rounds: quick ? 1 : Math.max(5, rounds), concurrency: 4, holders: 8 }
  const result = await measureCalls(options, log).catch((error: unknown) => {
    problems.push(String(error))
    return undefined
  })
  return [
    `## Upstream calls: server CPU per call (${options.calls} calls of each, ${options.concurrency} in flight, ${options.rounds} rounds, the API answering at once)`,
    '',
    result ? callsTable(result.series) : '(not measured)',
    '',
    ...(result ? ['What checking an answer costs, the same answers in process:', '', checksTable(result.checks), ''] : []),
  ]
}

async function mcp(): Promise<string[]> {
  const delays = (flags.delays ?? (quick ? '0' : '0,40')).split(',').map(Number)
  const concurrency = number(flags.connections, 16)
  const options = {
    delays,
    rounds,
    concurrency,
    holders: number(flags.holders, 16),
    batchMs,
    ...(quick ? { amount: 300 } : { durationMs: number(flags.duration, 5) * 1_000 }),
    warmupCalls: quick ? 50 : 500,
  }
  const groups = await measureMcp(options, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return [
    `## MCP: a warm paid tool call over Streamable HTTP (Express 5, stateless, ${concurrency} in flight, ${rounds} rounds, the API ${delays.join(' or ')} ms away, batch window ${batchMs} ms)`,
    '',
    groups.length > 0 ? mcpTable(groups) : '(not measured)',
    '',
  ]
}

async function workloads(): Promise<string[]> {
  log('workloads: counting upstream calls')
  // The counts are per batch window whatever its length (each wave of requests is one window), so
  // a short window keeps this section quick.
  const args = ['--batch-ms', String(WORKLOAD_BATCH_MS), ...(quick ? ['--quick'] : [])]
  const results = await runScript<WorkloadResult[]>('sections/workloads/workloads.ts', args)
  for (const result of results) problems.push(...checkWorkload(result))
  const lines = ['## Upstream calls for fixed workloads', '', workloadTable(results, WORKLOAD_BATCH_MS), '']
  if (baseline) {
    const before = await runScript<WorkloadResult[]>('sections/workloads/workloads.ts', args, baseline)
    const same = before.every((b, i) => ['balance', 'order', 'redeem'].every((k) => b[k as 'balance'] === results[i]![k as 'balance']))
    lines.push(`Counts at ${baseline.label}: ${same ? 'the same' : 'DIFFERENT:'}`, '', ...(same ? [] : [workloadTable(before, WORKLOAD_BATCH_MS), '']))
  }
  return lines
}

async function memory(): Promise<string[]> {
  log('memory: heap per cached holder')
  const holders = quick ? ['2000'] : ['10000', '100000']
  const rows = [{ label: THIS, results: await runScript<MemoryResult[]>('sections/memory/memory.ts', holders, { nodeFlags: ['--expose-gc'] }) }]
  if (baseline) rows.push({ label: baseline.label, results: await runScript<MemoryResult[]>('sections/memory/memory.ts', holders, { benchDir: baseline.benchDir, nodeFlags: ['--expose-gc'] }) })
  return ['## Memory', '', memoryTable(rows), '']
}

async function micro(): Promise<string[]> {
  const runs = new Map<string, MicroResult[][]>([[THIS, []]])
  if (baseline) runs.set(baseline.label, [])
  const args = quick ? ['--quick'] : []
  for (let round = 0; round < (quick ? 1 : rounds); round++) {
    log(`micro: round ${round + 1}`)
    // Alternate which goes first, as with the servers.
    const order = round % 2 === 0 ? [...runs.keys()] : [...runs.keys()].reverse()
    for (const label of order) {
      runs.get(label)!.push(await runScript<MicroResult[]>('sections/micro/micro.ts', args, label === THIS ? {} : { benchDir: baseline!.benchDir }))
    }
  }
  return [`## Micro-benchmarks (median of ${runs.get(THIS)!.length} runs)`, '', microTable(runs), '']
}

/** Usage pricing against a fixed cost, memory and Redis stores (bench/usage.ts, which starts its own redis-server). */
async function usage(): Promise<string[]> {
  log('usage: cost { max: 1 } and one use(1) against cost: 1, alternating rounds')
  const results = await runScript<UsageResult[]>('sections/usage/usage.ts', quick ? ['--quick'] : []).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return ['## Usage pricing against a fixed cost (CPU time per warm request)', '', usageTable(results), '']
}

async function instructions(): Promise<string[]> {
  if (!hasCallgrind()) {
    problems.push('instructions: valgrind is not installed (apt-get install -y valgrind)')
    return []
  }
  log('instructions: counting under callgrind (slow)')
  const servers: InstructionServer[] = [
    { label: 'bare', role: 'bare' },
    ...(quick ? [] : [{ label: 'bare + no-op async middleware', role: 'noop' as const }]),
    { label: 'bare + floor middleware', role: 'floor' },
    { label: 'guarded', role: 'guarded' },
    ...(quick ? [] : [{ label: 'guarded, headers: false', role: 'guarded, no headers' as const }]),
    ...(baseline ? [{ label: `guarded (${baseline.label})`, role: 'guarded' as const, benchDir: baseline.benchDir }] : []),
    { label: 'guarded, immediate settlement', role: 'guarded, immediate settlement' },
    ...(baseline ? [{ label: `guarded, immediate settlement (${baseline.label})`, role: 'guarded, immediate settlement' as const, benchDir: baseline.benchDir }] : []),
    ...(quick
      ? []
      : [
          { label: 'guarded, immediate settlement, ledger over HTTP via fetch', role: 'guarded, immediate settlement' as const, overHttp: 'fetch' as const },
          { label: 'guarded, immediate settlement, ledger over HTTP via createNodeFetch', role: 'guarded, immediate settlement' as const, overHttp: 'node' as const },
        ]),
  ]
  const results = await measureInstructions(
    {
      frameworks: flags.framework ? [flags.framework as 'express' | 'hono'] : ['express', 'hono'],
      servers,
      warmup: quick ? 500 : 6_000,
      requests: quick ? 300 : 3_000,
    },
    log,
  ).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return ['## Instructions per request (callgrind)', '', instructionTable(results), '']
}

async function allocation(): Promise<string[]> {
  log('allocation: bytes allocated per request (sampling heap profiler)')
  const results = await measureAllocation(
    {
      frameworks: flags.framework ? [flags.framework as 'express' | 'hono'] : ['express', 'hono'],
      servers: [
        { label: 'bare', role: 'bare' },
        { label: 'bare + no-op async middleware', role: 'noop' },
        { label: 'bare + floor middleware', role: 'floor' },
        { label: 'guarded', role: 'guarded' },
        ...(baseline ? [{ label: `guarded (${baseline.label})`, role: 'guarded' as const, benchDir: baseline.benchDir }] : []),
      ],
      warmup: quick ? 300 : 6_000,
      requests: quick ? 300 : 20_000,
    },
    log,
  ).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return ['## Allocation per request (sampling heap profiler)', '', allocationTable(results), '']
}

const chosen = [peers, scale, window, redis, calls, mcp, throughput, workloads, memory, micro, usage, allocation, instructions].filter((section) => sections.has(section.name))
// Full runs measure one thing at a time; the quick check only needs each to work, so it overlaps them.
const parts = quick ? await Promise.all(chosen.map((section) => section())) : []
if (!quick) for (const section of chosen) parts.push(await section())
output.push(...parts.flat())

mkdirSync(`${BENCH_DIR}results`, { recursive: true })
writeFileSync(`${BENCH_DIR}results/latest.json`, `${JSON.stringify(results, null, 1)}\n`)
// A full run's figures become the committed ones (the sections it measured) and the charts are
// drawn again from them; a quick run's figures mean nothing, so its charts go to a temporary
// directory, drawn only to check that they can be.
const chartsDir = flags.charts ?? (quick ? mkdtempSync(join(tmpdir(), 'plangate-charts-')) : CHARTS_DIR)
try {
  mkdirSync(chartsDir, { recursive: true })
  const all = quick && flags.charts === undefined ? results : mergeResults(join(chartsDir, 'results.json'), results)
  const written = await renderCharts(all, chartsDir)
  output.push(`Charts: ${written.length} drawn into ${chartsDir} (${written.map((path) => basename(path)).join(', ') || 'none: no section with a chart was measured'})`, '')
} catch (error) {
  problems.push(`charts: ${error instanceof Error ? error.stack : String(error)}`)
}

if (problems.length > 0) output.push('## Problems', '', ...problems.map((p) => `- ${p}`), '')
const report = output.join('\n')
console.log(report)
writeFileSync(`${BENCH_DIR}results/latest.md`, report)
if (problems.length > 0) {
  console.error(`bench: ${problems.length} problem(s); the harness or plangate is broken`)
  process.exit(1)
}
