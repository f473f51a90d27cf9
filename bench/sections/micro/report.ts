/** The micro-benchmarks' table: median ns per operation, and the speed-up against a --compare baseline. */
import { median, table, int } from '../../lib/report'
import type { MicroResult } from './micro'

/** `runs[label]` holds one list of results per round. */
export function microTable(runs: Map<string, MicroResult[][]>): string {
  const labels = [...runs.keys()]
  const names = [...new Set(labels.flatMap((label) => runs.get(label)![0]!.map((r) => r.name)))]
  const nsOf = (label: string, name: string) => median(runs.get(label)!.map((round) => round.find((r) => r.name === name)?.nsPerOp ?? NaN))
  const header = ['operation (warm, per call)', ...labels.map((label) => `ns (${label})`)]
  if (labels.length === 2) header.push(`speed-up`)
  const rows = names.map((name) => {
    const ns = labels.map((label) => nsOf(label, name))
    const row: (string | number)[] = [name, ...ns.map((n) => (Number.isNaN(n) ? '–' : int(n)))]
    if (ns.length === 2) row.push(Number.isNaN(ns[0]! + ns[1]!) ? '' : `${(ns[1]! / ns[0]!).toFixed(2)}×`)
    return row
  })
  return table(header, rows)
}
