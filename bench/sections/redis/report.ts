/** The Redis section's tables. Medians over rounds; ratios are taken per round, then the median. */
import { median, table } from '../../lib/report'
import type { BurstResult } from './burst'
import type { FleetSeries } from './fleet'
import type { RedisGroup, RedisRun } from './throughput'

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ratio = (n: number) => n.toFixed(3)
const spread = (values: number[]) => `**${ratio(median(values))}** (${ratio(Math.min(...values))}–${ratio(Math.max(...values))})`
const perRequest = (run: RedisRun, n: number) => (run.requests ? n / run.requests : 0)

export function redisTable(groups: RedisGroup[]): string {
  const rows: (string | number)[][] = []
  for (const group of groups) {
    const bare = group.series.find((s) => s.store === 'none')!
    for (const series of group.series) {
      const ratios = series.runs.map((run, i) => run.requestsPerSecond / bare.runs[i]!.requestsPerSecond)
      rows.push([
        `${group.delayMs} ms`,
        series.label,
        int(median(series.runs.map((r) => r.requestsPerSecond))),
        median(series.runs.map((r) => r.p50Ms)).toFixed(2),
        median(series.runs.map((r) => r.p99Ms)).toFixed(2),
        series === bare ? '1' : spread(ratios),
        median(series.runs.map((r) => r.cpuMicrosPerRequest)).toFixed(0),
        median(series.runs.map((r) => r.callsPerRequest)).toFixed(3),
        series.store === 'redis' ? median(series.runs.map((r) => perRequest(r, r.redis.roundTrips))).toFixed(3) : '–',
        series.store === 'redis' ? median(series.runs.map((r) => perRequest(r, r.redis.inScripts))).toFixed(1) : '–',
      ])
    }
  }
  return table(
    ['API delay', 'server', 'req/s', 'p50 ms', 'p99 ms', '÷ bare req/s (min–max)', 'server CPU µs/req', 'upstream calls/req', 'Redis round trips/req', 'commands run in scripts/req'],
    rows,
  )
}

/** The Redis store's round trips by what was sent (the median round by round trips per request). */
export function redisSplit(groups: RedisGroup[]): string {
  const rows: (string | number)[][] = []
  for (const group of groups) {
    const series = group.series.find((s) => s.store === 'redis')
    if (!series || series.runs.length === 0) continue
    const run = [...series.runs].sort((a, b) => a.redis.roundTrips / a.requests - b.redis.roundTrips / b.requests)[series.runs.length >> 1]!
    const byScript = Object.entries(run.byScript)
      .sort(([, a], [, b]) => b - a)
      .map(([name, n]) => `${name} ${perRequest(run, n).toFixed(4)}`)
      .join(', ')
    const sent = Object.entries(run.redis.sent)
      // Redis names subcommands `script|load`: a pipe would split the Markdown cell.
      .map(([name, n]) => `${name.toUpperCase().replace('|', ' ')} ${perRequest(run, n).toFixed(4)}`)
      .join(', ')
    rows.push([`${group.delayMs} ms`, int(run.requests), sent || 'none', byScript || 'none'])
  }
  return table(['API delay', 'requests', 'redis-server counted, per request (INFO commandstats)', 'the server sent, per request, by script'], rows)
}

export function burstTable(results: BurstResult[]): string {
  const rows = results.map((r) => [
    `${r.processes} on one Redis`,
    int(r.requests),
    r.credits,
    r.orders,
    r.fewest,
    r.orders === r.fewest ? 'yes' : `**no: ${r.orders - r.fewest} more**`,
    `${r.served} of ${r.requests}`,
    r.redeemed,
    r.roundTripsPerRequest.toFixed(2),
    r.seconds.toFixed(2),
  ])
  return table(
    ['plangate processes', 'concurrent requests', 'credits per order', 'orders placed', 'fewest (⌈requests ÷ credits⌉)', 'the fewest?', '2xx', 'credits redeemed', 'Redis round trips/req', 'burst s'],
    rows,
  )
}

/** Throughput of 1 and 4 processes on one Redis, against bare on 1 (sums over the servers). */
export function fleetTable(series: FleetSeries[]): string {
  const bare = series.find((s) => s.label.startsWith('bare'))
  const rows = series.map((one) => {
    const ratios = bare ? one.runs.map((run, i) => run.requestsPerSecond / bare.runs[i]!.requestsPerSecond) : []
    return [
      one.label,
      int(median(one.runs.map((r) => r.requestsPerSecond))),
      one === bare || ratios.length === 0 ? '1' : spread(ratios),
      median(one.runs.map((r) => r.cpuMicrosPerRequest)).toFixed(0),
      median(one.runs.map((r) => r.callsPerRequest)).toFixed(3),
      one === bare ? '–' : median(one.runs.map((r) => r.redisRoundTripsPerRequest)).toFixed(3),
    ]
  })
  return table(['servers', 'req/s (all processes)', '÷ bare req/s (min–max)', 'CPU µs/req (all processes)', 'upstream calls/req', 'Redis round trips/req'], rows)
}
