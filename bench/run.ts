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
 *
 * Each section is a folder of sections/ whose section.ts turns the flags into its part of the
 * report; what several sections share (child processes, servers, load, tables) is in lib/.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { CHARTS_DIR, mergeResults, provenance, readResults, type BenchResults } from './charts/results'
import { renderCharts } from './charts/render'
import { prepareBaseline } from './lib/baseline'
import { number, type Section, type SectionContext } from './lib/context'
import { parseFlags } from './lib/flags'
import { BENCH_DIR, useBuiltPackages } from './lib/processes'
import { allocation } from './sections/allocation/section'
import { calls } from './sections/calls/section'
import { instructions } from './sections/instructions/section'
import { mcp } from './sections/mcp/section'
import { memory } from './sections/memory/section'
import { micro } from './sections/micro/section'
import { peers } from './sections/peers/section'
import { redis } from './sections/redis/section'
import { scale } from './sections/scale/section'
import { throughput } from './sections/throughput/section'
import { usage } from './sections/usage/section'
import { window } from './sections/window/section'
import { workloads } from './sections/workloads/section'

/** Every section by its `--only` name, in the order a run measures them. */
const SECTIONS: Record<string, Section> = { peers, scale, window, redis, calls, mcp, throughput, workloads, memory, micro, usage, allocation, instructions }

const flags = parseFlags()

// The charts again from the committed results, measuring nothing (a clean clone needs no run).
if (flags['charts-only']) {
  const dir = flags.charts ?? CHARTS_DIR
  const written = await renderCharts(readResults(join(dir, 'results.json')), dir)
  console.error(`bench: ${written.length} chart(s) drawn from ${join(dir, 'results.json')} into ${dir}`)
  process.exit(0)
}

const quick = flags.quick
const selected = new Set(flags.only.split(','))
if (flags.dist) useBuiltPackages()
const baseline = flags.compare ? prepareBaseline(flags.compare, { build: flags.dist }) : undefined
const problems: string[] = []
/** What the charts are drawn from (./charts/), section by section. */
const results: BenchResults = {}
const context: SectionContext = {
  flags,
  quick,
  rounds: number(flags.rounds, quick ? 1 : 3),
  batchMs: number(flags['batch-ms'], 1_000),
  baseline,
  log: (line: string) => console.error(line),
  problems,
  results,
  taken: provenance(process.argv.slice(2), quick),
}
const output: string[] = [
  `# plangate benchmarks${quick ? ' (quick: checks the harness, the figures mean nothing)' : ''}`,
  '',
  `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}`,
  `Flags: ${process.argv.slice(2).join(' ') || '(none)'}${baseline ? `; baseline: ${baseline.label}` : ''}; packages loaded from ${flags.dist ? 'their dist/ builds' : 'their sources (tsx)'}`,
  '',
]

const chosen = Object.entries(SECTIONS)
  .filter(([name]) => selected.has(name))
  .map(([, section]) => section)
// Full runs measure one thing at a time; the quick check only needs each to work, so it overlaps them.
const parts = quick ? await Promise.all(chosen.map((section) => section(context))) : []
if (!quick) for (const section of chosen) parts.push(await section(context))
output.push(...parts.flat())

mkdirSync(`${BENCH_DIR}results`, { recursive: true })
writeFileSync(`${BENCH_DIR}results/latest.json`, `${JSON.stringify(results, null, 1)}\n`)
// A full run's figures become the committed ones (the sections it measured) and the charts are
// drawn again from them; a quick run's figures mean nothing, and a run whose checks failed
// measured something broken, so their charts go to a temporary directory, drawn only to check
// that they can be, and the committed results are left as they were.
const measuredRight = !quick && problems.length === 0
if (!quick && !measuredRight && flags.charts === undefined) output.push(`Results not merged into ${join(CHARTS_DIR, 'results.json')}: the run's checks failed (see Problems).`, '')
const chartsDir = flags.charts ?? (measuredRight ? CHARTS_DIR : mkdtempSync(join(tmpdir(), 'plangate-charts-')))
try {
  mkdirSync(chartsDir, { recursive: true })
  const all = chartsDir !== CHARTS_DIR && flags.charts === undefined ? results : mergeResults(join(chartsDir, 'results.json'), results)
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
