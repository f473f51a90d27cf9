/** `--only memory`: heap per cached holder (memory.ts, in its own process under --expose-gc). */
import { THIS, type SectionContext } from '../../lib/context'
import { runScript } from '../../lib/processes'
import type { MemoryResult } from './memory'
import { memoryTable } from './report'

const SCRIPT = 'sections/memory/memory.ts'

export async function memory({ quick, baseline, log }: SectionContext): Promise<string[]> {
  log('memory: heap per cached holder')
  const holders = quick ? ['2000'] : ['10000', '100000']
  const rows = [{ label: THIS, results: await runScript<MemoryResult[]>(SCRIPT, holders, { nodeFlags: ['--expose-gc'] }) }]
  if (baseline) rows.push({ label: baseline.label, results: await runScript<MemoryResult[]>(SCRIPT, holders, { benchDir: baseline.benchDir, nodeFlags: ['--expose-gc'] }) })
  return ['## Memory', '', memoryTable(rows), '']
}
