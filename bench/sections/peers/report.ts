/** The peer tables. Medians over rounds; ratios are taken per round, then the median. */
import type { PeerGroup } from '../../lib/peers/harness'
import { frameworkName, int, median, ratios, spread, table } from '../../lib/report'

const ROUTES = { const: 'constant', cpu: '1 ms CPU', wait: 'awaits 20 ms' }

export function peerTable(groups: PeerGroup[]): string {
  const rows: (string | number)[][] = []
  for (const group of groups) {
    const bare = group.series.find((s) => s.row.peer === 'bare')!
    const bareP50 = median(bare.runs.map((r) => r.p50Ms))
    for (const series of group.series) {
      const p50 = median(series.runs.map((r) => r.p50Ms))
      rows.push([
        frameworkName(group.framework),
        `${group.delayMs} ms`,
        ROUTES[group.route],
        series.row.label,
        int(median(series.runs.map((r) => r.requestsPerSecond))),
        p50.toFixed(2),
        median(series.runs.map((r) => r.p99Ms)).toFixed(2),
        series === bare ? '1' : spread(ratios(series.runs, bare.runs)),
        series === bare ? '' : `+${Math.max(0, p50 - bareP50).toFixed(2)}`,
        median(series.runs.map((r) => r.callsPerRequest)).toFixed(3),
        median(series.runs.map((r) => r.cpuMicrosPerRequest)).toFixed(0),
      ])
    }
  }
  return table(
    ['framework', 'API delay', 'route', 'middleware', 'req/s', 'p50 ms', 'p99 ms', '÷ bare req/s (min–max)', 'p50 added ms', 'upstream calls/req', 'server CPU µs/req'],
    rows,
  )
}

/** Which upstream calls each middleware made per request, by kind (the median round). */
export function callBreakdown(groups: PeerGroup[]): string {
  const first = groups.filter((g) => g.route === 'const')
  const rows: (string | number)[][] = []
  for (const group of first) {
    for (const series of group.series) {
      if (series.row.peer === 'bare') continue
      const run = [...series.runs].sort((a, b) => a.callsPerRequest - b.callsPerRequest)[series.runs.length >> 1]!
      const kinds = Object.entries(run.calls)
        .map(([name, n]) => `${name} ${(n / run.requests).toFixed(3)}`)
        .join(', ')
      rows.push([frameworkName(group.framework), `${group.delayMs} ms`, series.row.label, kinds || 'none'])
    }
  }
  return table(['framework', 'API delay', 'middleware', 'upstream calls per request, by kind (constant route)'], rows)
}
