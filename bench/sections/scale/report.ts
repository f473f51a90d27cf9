/** The scale table. Medians over rounds; ratios are taken per round, then the median. */
import { frameworkName, int, median, ratios, spread, table } from '../../lib/report'
import type { ScaleResult } from './scale'

export function scaleTable(results: ScaleResult[]): string {
  const rows: (string | number)[][] = results.map((r) => [
    frameworkName(r.framework),
    '1',
    int(r.holders),
    int(median(r.bare.map((x) => x.requestsPerSecond))),
    int(median(r.guarded.map((x) => x.requestsPerSecond))),
    spread(ratios(r.guarded, r.bare)),
    median(r.guarded.map((x) => x.callsPerRequest)).toFixed(4),
    r.bytesPerHolder === undefined ? '–' : int(r.bytesPerHolder),
  ])
  // Several processes on one Redis store: the Redis section (sections/redis/), with the store's round trips.
  return table(['framework', 'processes', 'holders active', 'bare req/s', 'plangate req/s', '÷ bare (min–max)', 'upstream calls/req', 'heap per holder (bytes)'], rows)
}
