/** The memory section's table: heap per cached holder. */
import { table, int } from '../../lib/report'
import type { MemoryResult } from './memory'

export function memoryTable(rows: { label: string; results: MemoryResult[] }[]): string {
  return table(
    ['code', 'holders cached', 'heap growth', 'bytes per holder', 'left after the gate is dropped'],
    rows.flatMap(({ label, results }) =>
      results.map((r) => [label, int(r.holders), `${r.heapGrowthMb.toFixed(1)} MB`, int(r.bytesPerHolder), `${r.leftAfterDropMb.toFixed(1)} MB`]),
    ),
  )
}
