/** The workloads section's table: upstream calls each middleware makes for the same fixed workload. */
import { table, int } from '../../lib/report'
import type { Mode, WorkloadResult } from './workloads'

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
