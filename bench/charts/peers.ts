/**
 * The peer table as charts: throughput ÷ bare, p50 added and upstream calls per request, one
 * panel per framework and API delay (rows) and route (columns). The rows are the table's own
 * figures (medians over rounds, ratios per round), computed here from the raw runs.
 */
import type { TopLevelSpec } from 'vega-lite'
import type { PeerGroup } from '../lib/peers/harness'
import { median } from '../lib/report'
import { footnote, type ChartSpec } from './style'

const ROUTES = { const: 'constant route', cpu: '1 ms CPU route', wait: 'route awaits 20 ms' }
const frameworkName = (f: string) => (f === 'express' ? 'Express 5' : 'Hono (node-server)')
/** "Nevermined paymentMiddleware 1.11 (verify + settle per request)" → its name alone. */
const short = (label: string) => label.replace(/ \(.*\)$/, '')

export interface PeerPoint {
  panel: string
  route: string
  middleware: string
  family: string
  order: number
  ratio: number
  ratioMin: number
  ratioMax: number
  requestsPerSecond: number
  p50AddedMs: number
  callsPerRequest: number
}

export function peerPoints(groups: PeerGroup[]): PeerPoint[] {
  const points: PeerPoint[] = []
  for (const group of groups) {
    const bare = group.series.find((s) => s.row.peer === 'bare')
    if (!bare) continue
    const bareP50 = median(bare.runs.map((r) => r.p50Ms))
    group.series.forEach((series, order) => {
      const ratios = series.runs.map((run, i) => run.requestsPerSecond / bare.runs[i]!.requestsPerSecond)
      points.push({
        panel: `${frameworkName(group.framework)}, API ${group.delayMs} ms away`,
        route: ROUTES[group.route],
        middleware: short(series.row.label),
        family: series.row.peer === 'bare' ? 'bare' : series.row.peer.startsWith('plangate') ? short(series.row.label).replace(/, (API key|x402 token)$/, '') : 'per-request middleware',
        order,
        ratio: median(ratios),
        ratioMin: Math.min(...ratios),
        ratioMax: Math.max(...ratios),
        requestsPerSecond: median(series.runs.map((r) => r.requestsPerSecond)),
        p50AddedMs: series === bare ? 0 : Math.max(0, median(series.runs.map((r) => r.p50Ms)) - bareP50),
        callsPerRequest: median(series.runs.map((r) => r.callsPerRequest)),
      })
    })
  }
  return points
}

const COLORS = {
  domain: ['bare', 'plangate, batched', 'plangate, immediate', 'per-request middleware'],
  range: ['#9e9e9e', '#1b7837', '#7fbf7b', '#c51b7d'],
}

function facetted(points: PeerPoint[], title: string, layer: TopLevelSpec[], note: string[]): ChartSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: note, anchor: 'start' },
    data: { values: points },
    facet: {
      row: { field: 'panel', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontWeight: 'bold' } },
      column: { field: 'route', type: 'nominal', title: null, sort: Object.values(ROUTES) },
    },
    spec: { width: 220, height: { step: 14 }, layer } as never,
    resolve: { scale: { y: 'independent' } },
    config: { view: { stroke: '#ddd' } },
  } as ChartSpec
}

const middlewareAxis = { field: 'middleware', type: 'nominal', title: null, sort: { field: 'order', op: 'min' }, axis: { labelLimit: 320 } } as const
const color = { field: 'family', type: 'nominal', title: null, scale: COLORS, legend: { orient: 'bottom', direction: 'horizontal', labelLimit: 300 } } as const

export function peerThroughputChart(groups: PeerGroup[], note: string): ChartSpec {
  const points = peerPoints(groups)
  return facetted(
    points,
    'Requests per second ÷ bare (median of rounds; line: min–max)',
    [
      { mark: 'bar', encoding: { y: middlewareAxis, x: { field: 'ratio', type: 'quantitative', title: '÷ bare req/s', scale: { domainMin: 0 } }, color } },
      { mark: { type: 'rule', color: '#333' }, encoding: { y: middlewareAxis, x: { field: 'ratioMin', type: 'quantitative' }, x2: { field: 'ratioMax' } } },
      { mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 }, encoding: { y: middlewareAxis, x: { field: 'ratioMax', type: 'quantitative' }, text: { field: 'ratio', type: 'quantitative', format: '.2f' } } },
    ] as TopLevelSpec[],
    footnote(note),
  )
}

export function peerLatencyChart(groups: PeerGroup[], note: string): ChartSpec {
  const points = peerPoints(groups).filter((p) => p.family !== 'bare')
  return facetted(
    points,
    'Median latency added over bare (ms, p50 of the guarded server − p50 of bare)',
    [
      { mark: 'bar', encoding: { y: middlewareAxis, x: { field: 'p50AddedMs', type: 'quantitative', title: 'p50 added (ms)' }, color } },
      { mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 }, encoding: { y: middlewareAxis, x: { field: 'p50AddedMs', type: 'quantitative' }, text: { field: 'p50AddedMs', type: 'quantitative', format: '.1f' } } },
    ] as TopLevelSpec[],
    footnote(note),
  )
}

export function peerCallsChart(groups: PeerGroup[], note: string): ChartSpec {
  // A log axis has no 0: a middleware that made no call in a run sits at the axis's floor.
  const points = peerPoints(groups)
    .filter((p) => p.family !== 'bare')
    .map((p) => ({ ...p, shown: Math.max(p.callsPerRequest, 0.001) }))
  return facetted(
    points as PeerPoint[],
    'Upstream calls per request (counted by the stand-in API; log scale)',
    [
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: middlewareAxis, x: { field: 'shown', type: 'quantitative', title: 'calls per request', scale: { type: 'log', domain: [0.001, 4] } }, color } },
      { mark: { type: 'text', align: 'left', dx: 6, fontSize: 9 }, encoding: { y: middlewareAxis, x: { field: 'shown', type: 'quantitative' }, text: { field: 'callsPerRequest', type: 'quantitative', format: '.3f' } } },
    ] as TopLevelSpec[],
    footnote(note),
  )
}
