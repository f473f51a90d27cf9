/** The throughput section's table: each server beside bare (and the floor), per framework and variant. */
import { median, table, int, ms, ratio, signed } from '../../lib/report'
import { describeVariant, type PairResult } from './throughput'

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
