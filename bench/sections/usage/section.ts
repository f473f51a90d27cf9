/** `--only usage`: usage pricing against a fixed cost, memory and Redis stores (usage.ts, which starts its own redis-server). */
import type { SectionContext } from '../../lib/context'
import { runScript } from '../../lib/processes'
import { usageTable } from './report'
import type { UsageResult } from './usage'

export async function usage({ quick, log, problems }: SectionContext): Promise<string[]> {
  log('usage: cost { max: 1 } and one use(1) against cost: 1, alternating rounds')
  const results = await runScript<UsageResult[]>('sections/usage/usage.ts', quick ? ['--quick'] : []).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return ['## Usage pricing against a fixed cost (CPU time per warm request)', '', usageTable(results), '']
}
