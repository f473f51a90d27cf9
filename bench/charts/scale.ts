/** The scale table as a chart: ÷ bare and upstream calls per request against holders active at once. */
import type { ScaleResult } from '../sections/scale/scale'
import { median } from '../lib/report'
import { footnote, type ChartSpec } from './style'

export function scaleChart(results: ScaleResult[], note: string): ChartSpec {
  const points = results.map((r) => {
    const ratios = r.guarded.map((run, i) => run.requestsPerSecond / r.bare[i]!.requestsPerSecond)
    const calls = median(r.guarded.map((run) => run.callsPerRequest))
    return {
      framework: r.framework === 'express' ? 'Express 5' : 'Hono (node-server)',
      holders: r.holders,
      ratio: median(ratios),
      ratioMin: Math.min(...ratios),
      ratioMax: Math.max(...ratios),
      calls,
      // A log axis has no 0.
      callsShown: Math.max(calls, 0.0001),
    }
  })
  const x = { field: 'holders', type: 'quantitative', title: 'holders active at once (log scale)', scale: { type: 'log' }, axis: { values: [...new Set(points.map((p) => p.holders))] } } as const
  const color = { field: 'framework', type: 'nominal', title: null, legend: { orient: 'bottom' } } as const
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'plangate batched (API key) against bare, by holders active at once', subtitle: footnote(note, 100), anchor: 'start' },
    data: { values: points },
    hconcat: [
      {
        width: 280,
        height: 200,
        title: 'requests per second ÷ bare (line: min–max of rounds)',
        layer: [
          { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'ratio', type: 'quantitative', title: '÷ bare req/s', scale: { domainMin: 0 } }, color } },
          { mark: 'rule', encoding: { x, y: { field: 'ratioMin', type: 'quantitative' }, y2: { field: 'ratioMax' }, color } },
        ],
      },
      {
        width: 280,
        height: 200,
        title: 'upstream calls per request (log scale)',
        layer: [
          { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'callsShown', type: 'quantitative', title: 'calls per request', scale: { type: 'log' } }, color } },
          { mark: { type: 'text', dy: -8, fontSize: 9 }, encoding: { x, y: { field: 'callsShown', type: 'quantitative' }, text: { field: 'calls', type: 'quantitative', format: '.4f' }, color } },
        ],
      },
    ],
  } as ChartSpec
}
