import type { UsageResult } from './usage'

const micros = (n: number) => n.toFixed(1)
const ratio = (n: number) => n.toFixed(2)

/** The usage section's table: CPU µs per warm request, fixed against metered, and Redis round trips. */
export function usageTable(results: UsageResult[]): string {
  const lines = [
    '| framework | store | fixed `cost: 1` (µs CPU) | `cost: { max: 1 }` + `use(1)` (µs CPU) | metered ÷ fixed, median (range over rounds) | Redis round trips per request (fixed / metered) |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of results) {
    const trips = r.roundTrips ? `${r.roundTrips.fixed} / ${r.roundTrips.metered}` : '—'
    lines.push(`| ${r.framework} | ${r.store} | ${micros(r.fixedMicros)} | ${micros(r.meteredMicros)} | ${ratio(r.ratio.median)} (${ratio(r.ratio.min)}–${ratio(r.ratio.max)}) | ${trips} |`)
  }
  return lines.join('\n')
}
