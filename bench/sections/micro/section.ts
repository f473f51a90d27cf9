/** `--only micro`: micro-benchmarks (micro.ts, in its own process), round by round beside a --compare baseline. */
import { THIS, type SectionContext } from '../../lib/context'
import { runScript } from '../../lib/processes'
import type { MicroResult } from './micro'
import { microTable } from './report'

export async function micro({ quick, rounds, baseline, log }: SectionContext): Promise<string[]> {
  const runs = new Map<string, MicroResult[][]>([[THIS, []]])
  if (baseline) runs.set(baseline.label, [])
  const args = quick ? ['--quick'] : []
  for (let round = 0; round < (quick ? 1 : rounds); round++) {
    log(`micro: round ${round + 1}`)
    // Alternate which goes first, as with the servers.
    const order = round % 2 === 0 ? [...runs.keys()] : [...runs.keys()].reverse()
    for (const label of order) {
      runs.get(label)!.push(await runScript<MicroResult[]>('sections/micro/micro.ts', args, label === THIS ? {} : { benchDir: baseline!.benchDir }))
    }
  }
  return [`## Micro-benchmarks (median of ${runs.get(THIS)!.length} runs)`, '', microTable(runs), '']
}
