/** `--only workloads`: upstream calls for fixed workloads, plangate beside a naive verify + settle per request. */
import type { SectionContext } from '../../lib/context'
import { runScript } from '../../lib/processes'
import { workloadTable } from './report'
import { checkWorkload, type WorkloadResult } from './workloads'

const WORKLOAD_BATCH_MS = 50
const SCRIPT = 'sections/workloads/workloads.ts'

export async function workloads({ quick, baseline, log, problems }: SectionContext): Promise<string[]> {
  log('workloads: counting upstream calls')
  // The counts are per batch window whatever its length (each wave of requests is one window), so
  // a short window keeps this section quick.
  const args = ['--batch-ms', String(WORKLOAD_BATCH_MS), ...(quick ? ['--quick'] : [])]
  const results = await runScript<WorkloadResult[]>(SCRIPT, args)
  for (const result of results) problems.push(...checkWorkload(result))
  const lines = ['## Upstream calls for fixed workloads', '', workloadTable(results, WORKLOAD_BATCH_MS), '']
  if (baseline) {
    const before = await runScript<WorkloadResult[]>(SCRIPT, args, baseline)
    const same = before.every((b, i) => ['balance', 'order', 'redeem'].every((k) => b[k as 'balance'] === results[i]![k as 'balance']))
    lines.push(`Counts at ${baseline.label}: ${same ? 'the same' : 'DIFFERENT:'}`, '', ...(same ? [] : [workloadTable(before, WORKLOAD_BATCH_MS), '']))
  }
  return lines
}
