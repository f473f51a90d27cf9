/**
 * Draws the charts from the bench's results: vega-lite specs (./peers.ts, ./scale.ts,
 * ./window-chart.ts) compiled to vega and rendered to SVG in Node (vega's headless `View#toSVG`:
 * no browser, no canvas; text widths are estimated).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Error as ERRORS_ONLY, logger, parse, View } from 'vega'
import { compile } from 'vega-lite'
import { peerCallsChart, peerLatencyChart, peerThroughputChart } from './peers'
import type { BenchResults } from './results'
import { scaleChart } from './scale'
import { source, type ChartSpec } from './style'
import { windowChart } from './window-chart'

/** The charts the results allow, by file name. */
export function chartSpecs(results: BenchResults): Map<string, ChartSpec> {
  const specs = new Map<string, ChartSpec>()
  if (results.peers && results.peers.results.length > 0) {
    const note = `Bare and each middleware in its own process, one stand-in API on loopback. ${source(results.peers.provenance)}`
    specs.set('peers-throughput.svg', peerThroughputChart(results.peers.results, note))
    specs.set('peers-latency.svg', peerLatencyChart(results.peers.results, note))
    specs.set('peers-calls.svg', peerCallsChart(results.peers.results, note))
  }
  if (results.scale && results.scale.results.length > 0) specs.set('scale.svg', scaleChart(results.scale.results, source(results.scale.provenance)))
  if (results.window && results.window.results.length > 0) specs.set('window.svg', windowChart(results.window.results, source(results.window.provenance)))
  return specs
}

export async function renderSvg(spec: ChartSpec): Promise<string> {
  // vega-lite warns that the faceted panels' independent scales share field names, which they
  // do on purpose (each framework has its own middlewares); errors still show.
  const view = new View(parse(compile(spec, { logger: logger(ERRORS_ONLY) }).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/** Writes every chart the results allow into `dir`; returns the paths written. */
export async function renderCharts(results: BenchResults, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true })
  const written: string[] = []
  for (const [name, spec] of chartSpecs(results)) {
    const svg = await renderSvg(spec)
    if (!svg.startsWith('<svg') || !svg.includes('</svg>')) throw new Error(`charts: ${name} did not render to an SVG document`)
    const path = join(dir, name)
    writeFileSync(path, `${svg}\n`)
    written.push(path)
  }
  return written
}
