/**
 * Markdown tables, shared by the sections' own report files: medians over rounds (ratios are taken
 * per round, then the median) and the number formats every table uses.
 */

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** A whole number with thousands separators. */
export const int = (n: number) => Math.round(n).toLocaleString('en-US')
/** Milliseconds, to the hundredth. */
export const ms = (n: number) => n.toFixed(2)
/** A ratio, to the thousandth. */
export const ratio = (n: number) => n.toFixed(3)
/** A difference with its sign (a true minus), to the tenth. */
export const signed = (n: number) => `${n < 0 ? '−' : '+'}${Math.abs(n).toFixed(1)}`
/** The median ratio in bold, then the range over rounds. */
export const spread = (values: number[]) => `**${ratio(median(values))}** (${ratio(Math.min(...values))}–${ratio(Math.max(...values))})`
export const frameworkName = (f: string) => (f === 'express' ? 'Express 5' : 'Hono (node-server)')

/** Requests per second ÷ the bare server's, round by round (runs and bare runs in the same order). */
export function ratios(runs: { requestsPerSecond: number }[], bare: { requestsPerSecond: number }[]): number[] {
  return runs.map((run, i) => run.requestsPerSecond / bare[i]!.requestsPerSecond)
}
