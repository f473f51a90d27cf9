/** The allocation section's table (V8's sampling heap profiler). */
import { table, int } from '../../lib/report'
import type { AllocationResult } from './allocation'

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
