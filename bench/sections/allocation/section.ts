/** `--only allocation`: bytes allocated per request (V8's sampling heap profiler). */
import { frameworks, type SectionContext } from '../../lib/context'
import { measureAllocation } from './allocation'
import { allocationTable } from './report'

export async function allocation(context: SectionContext): Promise<string[]> {
  const { quick, baseline, log, problems } = context
  log('allocation: bytes allocated per request (sampling heap profiler)')
  const results = await measureAllocation(
    {
      frameworks: frameworks(context),
      servers: [
        { label: 'bare', role: 'bare' },
        { label: 'bare + no-op async middleware', role: 'noop' },
        { label: 'bare + floor middleware', role: 'floor' },
        { label: 'guarded', role: 'guarded' },
        ...(baseline ? [{ label: `guarded (${baseline.label})`, role: 'guarded' as const, benchDir: baseline.benchDir }] : []),
      ],
      warmup: quick ? 300 : 6_000,
      requests: quick ? 300 : 20_000,
    },
    log,
  ).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return ['## Allocation per request (sampling heap profiler)', '', allocationTable(results), '']
}
