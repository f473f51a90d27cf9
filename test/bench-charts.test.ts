/**
 * The bench's charts (bench/charts/) are drawn from its results, not by hand: each figure in an
 * SVG must be the one the results give (medians over rounds, ratios per round), and the
 * committed results must draw every chart with no measuring (a clean clone). The window section's
 * money at risk is the memory store's pending credits, sampled (bench/lib/peers/pending.ts).
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPlanGate, MemoryBalanceStore } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { describe, expect, it } from 'vitest'
import { chartSpecs, renderCharts, renderSvg } from '../bench/charts/render'
import { CHARTS_DIR, readResults, type BenchResults, type Provenance } from '../bench/charts/results'
import type { PeerGroup, PeerRun } from '../bench/lib/peers/harness'
import { pendingSampler } from '../bench/lib/peers/pending'

const provenance: Provenance = { command: 'pnpm bench --only peers', commit: 'abc1234', date: '2026-12-03T00:00:00.000Z', machine: 'test', quick: false }

function run(requestsPerSecond: number, p50Ms: number, callsPerRequest: number): PeerRun {
  return { requestsPerSecond, p50Ms, p99Ms: p50Ms * 2, requests: 1000, failures: 0, calls: {}, callsPerRequest, cpuMicrosPerRequest: 100 }
}

const groups: PeerGroup[] = [
  {
    framework: 'hono',
    delayMs: 40,
    route: 'const',
    series: [
      { row: { label: 'bare', peer: 'bare', credential: 'key' }, runs: [run(1000, 2, 0), run(2000, 2, 0), run(1000, 2, 0)] },
      // Ratios per round 0.5, 0.35, 0.7: the median is 0.5 (not 0.35 ÷ … of the medians).
      { row: { label: 'plangate, batched, API key', peer: 'plangate-batched', credential: 'key' }, runs: [run(500, 3, 0.05), run(700, 4, 0.04), run(700, 9, 0.06)] },
      { row: { label: '@x402/hono 2.27 (verify + settle per request)', peer: 'x402', credential: 'payload' }, runs: [run(100, 90, 2.1), run(100, 92, 2.1), run(100, 91, 2.1)] },
    ],
  },
]

const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!)

describe('bench charts', () => {
  it('draws each figure from the results: ratios per round, then the median; p50 added over bare; calls per request', async () => {
    const specs = chartSpecs({ peers: { provenance, results: groups } })
    expect([...specs.keys()]).toEqual(['peers-throughput.svg', 'peers-latency.svg', 'peers-calls.svg'])
    const throughputSvg = await renderSvg(specs.get('peers-throughput.svg')!)
    const throughput = texts(throughputSvg)
    expect(throughput).toContain('0.50')
    expect(throughput).toContain('0.10')
    expect(throughput).toContain('@x402/hono 2.27')
    const latency = texts(await renderSvg(specs.get('peers-latency.svg')!))
    expect(latency).toContain('2.0') // p50 median 4 − bare's 2
    expect(latency).toContain('89.0')
    const calls = texts(await renderSvg(specs.get('peers-calls.svg')!))
    expect(calls).toContain('0.050')
    expect(calls).toContain('2.100')
    // Where the figures come from is on the chart.
    expect(throughputSvg).toContain('pnpm bench --only peers at abc1234')
  })

  it('writes one SVG document per chart the results allow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plangate-charts-test-'))
    const results: BenchResults = {
      peers: { provenance, results: groups },
      scale: { provenance, results: [{ framework: 'hono', holders: 100, delayMs: 40, bare: [run(1000, 2, 0)], guarded: [run(800, 3, 0.0141)], bytesPerHolder: 2000 }] },
      window: {
        provenance,
        results: [{ framework: 'hono', holders: 100, delayMs: 40, setting: { label: 'batchMs 1000', batchMs: 1000 }, runs: [{ ...run(2000, 3, 0.05), pending: { mean: 1234.5, max: 2000, samples: 100 } }] }],
      },
    }
    const written = await renderCharts(results, dir)
    expect(written.map((path) => path.slice(dir.length + 1))).toEqual(['peers-throughput.svg', 'peers-latency.svg', 'peers-calls.svg', 'scale.svg', 'window.svg'])
    for (const path of written) expect(readFileSync(path, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/)
    expect(texts(readFileSync(join(dir, 'scale.svg'), 'utf8'))).toContain('0.0141')
    expect(texts(readFileSync(join(dir, 'window.svg'), 'utf8'))).toContain('batchMs 1000')
  })

  it('the committed results draw every committed chart, measuring nothing (a clean clone)', async () => {
    const committed = readResults(join(CHARTS_DIR, 'results.json'))
    const specs = chartSpecs(committed)
    expect(specs.size).toBeGreaterThan(0)
    for (const [name, spec] of specs) {
      const svg = await renderSvg(spec)
      expect(svg, name).toMatch(/^<svg/)
      expect(readFileSync(join(CHARTS_DIR, name), 'utf8').trim(), `${name} is what the committed results draw (run pnpm bench --charts-only)`).toBe(svg.trim())
    }
  })
})

describe('money at risk (pending credits)', () => {
  it('samples the credits served and not yet settled: all of a batch while its window is open, none once settled', async () => {
    const ledger = createLocalLedger()
    const owner = ledger.createAccount({ funds: 0 })
    const alice = ledger.createAccount({ funds: 100 })
    const planId = ledger.createPlan({ credits: 10, price: 10, owner: owner.address })
    const store = new MemoryBalanceStore()
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, store, settle: { batchMs: 60_000 } })
    for (let i = 0; i < 3; i++) (await gate.reserve(planId, alice.apiKey, 1)).commit()
    const sampler = pendingSampler(store, 5)
    sampler.start()
    await new Promise((resolve) => setTimeout(resolve, 100))
    const open = sampler.stop()
    expect(open.samples).toBeGreaterThan(3)
    expect(open).toMatchObject({ mean: 3, max: 3 })
    await gate.close()
    sampler.start()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(sampler.stop()).toMatchObject({ mean: 0, max: 0 })
  })
})
