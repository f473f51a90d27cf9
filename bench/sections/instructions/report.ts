/** The instructions section's table (callgrind). */
import { table, int, ratio } from '../../lib/report'
import type { InstructionResult } from './instructions'

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
