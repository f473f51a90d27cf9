/** Markdown tables from the results. Medians over rounds; ratios are per round, then the median. */
import type { AllocationResult } from '../sections/allocation/allocation'
import type { InstructionResult } from '../sections/instructions/instructions'
import type { MemoryResult } from '../sections/memory/memory'
import type { MicroResult } from '../sections/micro/micro'
import { describeVariant, type PairResult } from '../sections/throughput/throughput'
import type { Mode, WorkloadResult } from '../sections/workloads/workloads'

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => n.toFixed(2)
const ratio = (n: number) => n.toFixed(3)
const signed = (n: number) => `${n < 0 ? '−' : '+'}${Math.abs(n).toFixed(1)}`

export function throughputTable(results: PairResult[], batchMs: number): string {
  const rows: (string | number)[][] = []
  for (const { framework, variant, servers } of results) {
    const bare = servers.find((s) => s.role === 'bare')!
    const floor = servers.find((s) => s.role === 'floor')
    for (const series of servers) {
      const ratios = series.runs.map((run, i) => run.requestsPerSecond / bare.runs[i]!.requestsPerSecond)
      // How close plangate comes to the least any plan middleware costs (per round, as ÷ bare).
      const toFloor = floor && series.role === 'guarded' ? series.runs.map((run, i) => run.requestsPerSecond / floor.runs[i]!.requestsPerSecond) : undefined
      const user = median(series.runs.map((r) => r.userMicrosPerRequest))
      const bareUser = median(bare.runs.map((r) => r.userMicrosPerRequest))
      const system = median(series.runs.map((r) => r.systemMicrosPerRequest))
      rows.push([
        framework === 'express' ? 'Express 5' : 'Hono (node-server)',
        describeVariant(variant, batchMs),
        series.label,
        int(median(series.runs.map((r) => r.requestsPerSecond))),
        ms(median(series.runs.map((r) => r.p50Ms))),
        ms(median(series.runs.map((r) => r.p99Ms))),
        series === bare ? '1' : `**${ratio(median(ratios))}** (${ratio(Math.min(...ratios))}–${ratio(Math.max(...ratios))})`,
        toFloor ? `${ratio(median(toFloor))} (${ratio(Math.min(...toFloor))}–${ratio(Math.max(...toFloor))})` : '',
        `${user.toFixed(1)} + ${system.toFixed(1)}`,
        series === bare ? '' : `${signed(user - bareUser)} (${ratio(bareUser / user)})`,
        series.role === 'guarded' ? median(series.runs.map((r) => r.callsPerRequest)).toFixed(3) : '0',
      ])
    }
  }
  return table(
    [
      'framework',
      'upstream, settlement',
      'server',
      'req/s',
      'p50 ms',
      'p99 ms',
      '÷ bare req/s (min–max)',
      '÷ floor req/s (min–max)',
      'server CPU µs/req: user + system',
      'user CPU added µs/req (bare ÷ it)',
      'upstream calls/req',
    ],
    rows,
  )
}

export function workloadTable(results: WorkloadResult[], batchMs: number): string {
  const label: Record<Mode, string> = {
    naive: 'naive (verify + settle upstream per request)',
    immediate: 'plangate, immediate settlement',
    batched: `plangate, batched (${batchMs} ms)`,
  }
  return table(
    ['workload', 'middleware', 'balance reads', 'orders', 'burns (settle or redeem)', 'x402 set-up (plan, delegation, token)', 'upstream calls', 'calls/request', 'credits bought'],
    results.map((r) => {
      const calls = r.balance + r.order + r.redeem + r.setup
      return [r.workload.name, label[r.mode], int(r.balance), int(r.order), int(r.redeem), int(r.setup), `**${int(calls)}**`, (calls / r.workload.requests).toFixed(3), int(r.bought)]
    }),
  )
}

export function memoryTable(rows: { label: string; results: MemoryResult[] }[]): string {
  return table(
    ['code', 'holders cached', 'heap growth', 'bytes per holder', 'left after the gate is dropped'],
    rows.flatMap(({ label, results }) =>
      results.map((r) => [label, int(r.holders), `${r.heapGrowthMb.toFixed(1)} MB`, int(r.bytesPerHolder), `${r.leftAfterDropMb.toFixed(1)} MB`]),
    ),
  )
}

/** `runs[label]` holds one list of results per round. */
export function microTable(runs: Map<string, MicroResult[][]>): string {
  const labels = [...runs.keys()]
  const names = [...new Set(labels.flatMap((label) => runs.get(label)![0]!.map((r) => r.name)))]
  const nsOf = (label: string, name: string) => median(runs.get(label)!.map((round) => round.find((r) => r.name === name)?.nsPerOp ?? NaN))
  const header = ['operation (warm, per call)', ...labels.map((label) => `ns (${label})`)]
  if (labels.length === 2) header.push(`speed-up`)
  const rows = names.map((name) => {
    const ns = labels.map((label) => nsOf(label, name))
    const row: (string | number)[] = [name, ...ns.map((n) => (Number.isNaN(n) ? '–' : int(n)))]
    if (ns.length === 2) row.push(Number.isNaN(ns[0]! + ns[1]!) ? '' : `${(ns[1]! / ns[0]!).toFixed(2)}×`)
    return row
  })
  return table(header, rows)
}

/**
 * Instructions per request; "bare ÷ it" is the throughput ratio the server would have if its main
 * thread's instructions alone limited it. A redemption's cost is the immediate-settlement server's
 * excess over the guarded one of the same code (every counted request redeems there): client and
 * ledger in process, the client side alone over HTTP.
 */
export function instructionTable(results: InstructionResult[]): string {
  const rows: (string | number)[][] = []
  for (const result of results) {
    const bare = results.find((r) => r.framework === result.framework && r.role === 'bare')
    const warm = results.find((r) => r.framework === result.framework && r.role === 'guarded' && r.baseline === result.baseline)
    const added = bare && result.role !== 'bare' ? result.perRequest - bare.perRequest : undefined
    rows.push([
      result.framework === 'express' ? 'Express 5' : 'Hono (node-server)',
      result.label,
      int(result.perRequest),
      added === undefined ? '' : `${added < 0 ? '−' : '+'}${int(Math.abs(added))}`,
      bare && result.role !== 'bare' ? `**${ratio(bare.perRequest / result.perRequest)}**` : '1',
      result.role === 'guarded, immediate settlement' && warm ? int(result.perRequest - warm.perRequest) : '',
      int(result.allThreadsPerRequest),
      bare && result.role !== 'bare' ? ratio(bare.allThreadsPerRequest / result.allThreadsPerRequest) : '1',
    ])
  }
  return table(
    ['framework', 'server', 'instructions per request (main thread)', 'added over bare', 'bare ÷ it', 'one redemption', 'all threads', 'bare ÷ it, all threads'],
    rows,
  )
}

/**
 * Bytes allocated per warm request (sampled by V8's heap profiler, garbage included), what the
 * server adds over bare, and how much of it plangate's own functions allocate, largest first.
 */
export function allocationTable(results: AllocationResult[]): string {
  const rows = results.map((result) => {
    const bare = results.find((r) => r.framework === result.framework && r.role === 'bare')
    const added = bare && result.role !== 'bare' ? result.bytesPerRequest - bare.bytesPerRequest : undefined
    const largest = result.plangateFunctions
      .slice(0, 4)
      .map((f) => `${f.where.replace(/^(\S+) .*?([^/\s]+:\d+)$/, '$1 ($2)')} ${int(f.bytesPerRequest)}`)
      .join('; ')
    return [
      result.framework === 'express' ? 'Express 5' : 'Hono (node-server)',
      result.label,
      int(result.bytesPerRequest),
      added === undefined ? '' : `${added < 0 ? '−' : '+'}${int(Math.abs(added))}`,
      result.role === 'guarded' ? int(result.plangateBytesPerRequest) : '',
      largest,
    ]
  })
  return table(['framework', 'server', 'bytes allocated per request', 'added over bare', "in plangate's own functions", "plangate's largest (bytes per request)"], rows)
}
