/**
 * Choosing a window as a chart: for each holder count, upstream calls per request (what a window
 * saves) against the credits served and not yet settled (what it puts at risk), one point per
 * setting; the fixed windows joined in order of `batchMs`, the maxCredits rule apart.
 */
import { median } from '../lib/report'
import type { WindowResult } from '../sections/window/window'
import { footnote, type ChartSpec } from './style'

export function windowChart(results: WindowResult[], note: string): ChartSpec {
  const points = results.map((r) => ({
    holders: `${r.holders.toLocaleString('en-US')} holders active`,
    setting: r.setting.label,
    kind: r.setting.maxCredits ? 'batchMs + maxCredits (the rule)' : 'fixed window (batchMs; 0 = immediate)',
    batchMs: r.setting.batchMs,
    // Log axes have no 0.
    calls: Math.max(median(r.runs.map((run) => run.callsPerRequest)), 0.0001),
    pending: Math.max(median(r.runs.map((run) => run.pending.mean)), 0.1),
  }))
  const x = { field: 'calls', type: 'quantitative', title: 'upstream calls per request (log)', scale: { type: 'log' } } as const
  const y = { field: 'pending', type: 'quantitative', title: 'credits served, not yet settled (mean; log)', scale: { type: 'log' } } as const
  const color = { field: 'kind', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 300 } } as const
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Choosing settle.batchMs: calls saved against credits at risk',
      subtitle: footnote(
        `Lower left is better on both axes. With the memory store a crash loses the credits not yet settled (revenue); the Redis and Durable Object stores keep them in their outbox. ${note}`,
        100,
      ),
      anchor: 'start',
    },
    data: { values: points },
    facet: { column: { field: 'holders', type: 'nominal', title: null, sort: { field: 'batchMs' } } },
    spec: {
      width: 300,
      height: 240,
      layer: [
        { transform: [{ filter: "datum.kind !== 'batchMs + maxCredits (the rule)'" }], mark: { type: 'line', strokeDash: [3, 3] }, encoding: { x, y, order: { field: 'batchMs' }, color } },
        { mark: { type: 'point', filled: true, size: 70 }, encoding: { x, y, color, shape: { field: 'kind', type: 'nominal', legend: null } } },
        { mark: { type: 'text', align: 'left', dx: 7, dy: -4, fontSize: 9 }, encoding: { x, y, text: { field: 'setting' } } },
      ],
    } as never,
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as ChartSpec
}
