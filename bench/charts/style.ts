/** What every chart shares: its spec type, and the line saying where its figures come from. */
import type { TopLevelSpec } from 'vega-lite'
import type { Provenance } from './results'

export type ChartSpec = TopLevelSpec

/** "`pnpm bench --only peers …` at df381cb, 2026-12-03 (AMD EPYC, 2 cores, Node v20.20.2)". */
export function source(provenance: Provenance): string {
  const quick = provenance.quick ? ' (quick: checks the harness, the figures mean nothing)' : ''
  const load = provenance.loadAverage === undefined ? '' : `, load average ${provenance.loadAverage} at the start`
  return `${provenance.command} at ${provenance.commit}, ${provenance.date.slice(0, 10)} (${provenance.machine}${load})${quick}`
}

/** Long subtitles are cut into lines, as vega does not wrap text. */
export function footnote(note: string, width = 110): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of note.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines
}
