/**
 * Scale: plangate (batched) against bare with 1, 100 and 10,000 holders all active (requests are
 * handed out round-robin over every holder), the stand-in API `delayMs` away. Throughput, upstream
 * calls per request, and the guarded server's heap per holder (after a full GC: once every holder
 * has been served, less once the first was, over the holders added).
 */
import { drainMs, quiet, measureOnce, peerConfig, warm, checkRun, type PeerRow, type PeerRun, type PeerOptions, type Running } from '../../lib/peers/harness'
import { spawnChild, type Child } from '../../lib/processes'
import type { Framework } from '../../lib/protocol'
import { headersFor } from '../../lib/peers/credentials'

export interface ScaleResult {
  framework: Framework
  holders: number
  delayMs: number
  bare: PeerRun[]
  guarded: PeerRun[]
  /** Heap the guarded server holds per holder (bytes), or undefined for too few holders to tell. */
  bytesPerHolder: number | undefined
}

const BARE: PeerRow = { label: 'bare', peer: 'bare', credential: 'key' }
const GUARDED: PeerRow = { label: 'plangate, batched, API key', peer: 'plangate-batched', credential: 'key' }

export async function measureScale(
  options: Omit<PeerOptions, 'holders' | 'delays' | 'routes'> & { holderCounts: number[]; delayMs: number },
  log: (line: string) => void,
  problems: string[],
): Promise<ScaleResult[]> {
  const results: ScaleResult[] = []
  for (const holders of options.holderCounts) {
    const upstream = await spawnChild('lib/peers/upstream.ts', { holders, delayMs: options.delayMs, tokens: false })
    try {
      for (const framework of options.frameworks) {
        log(`scale: ${framework}, ${holders} holders`)
        results.push(await measureOne(framework, holders, upstream, { ...options, holders }, log, problems))
      }
    } finally {
      await upstream.close()
    }
  }
  return results
}

async function measureOne(
  framework: Framework,
  holders: number,
  upstream: Child,
  options: Omit<PeerOptions, 'delays' | 'routes'> & { delayMs: number },
  log: (line: string) => void,
  problems: string[],
): Promise<ScaleResult> {
  const group = { framework, delayMs: options.delayMs, route: 'const' as const, cpuIterations: 0 }
  const servers: Child[] = []
  try {
    const start = async (row: PeerRow): Promise<Running> => {
      const server = await spawnChild('lib/peers/server.ts', peerConfig(group, row.peer, upstream.ready, options), { nodeFlags: ['--expose-gc'] })
      servers.push(server)
      return { series: { row, runs: [] }, server, headers: headersFor(row.credential, upstream.ready, []) }
    }
    const bare = await start(BARE)
    const guarded = await start(GUARDED)
    // One holder first (code compiled, connections open), so the growth after it is the holders'.
    await warm({ ...guarded, headers: guarded.headers.slice(0, 1) }, { ...options, warmupSeconds: 0 })
    const heapBefore = (await guarded.server.command('heap')).heap!
    await warm(guarded, { ...options, warmupSeconds: 0 }, 64)
    const heapAfter = (await guarded.server.command('heap')).heap!
    await warm(bare, options, 64)
    await warm(guarded, options)
    await quiet(upstream, drainMs('plangate-batched', options.delayMs, options.batchMs), options.delayMs)
    for (let round = 0; round < options.rounds; round++) {
      for (const one of round % 2 === 0 ? [bare, guarded] : [guarded, bare]) {
        const run = await measureOnce(one, upstream, options.delayMs, options)
        one.series.runs.push(run)
        log(`  round ${round + 1} ${one.series.row.label.padEnd(28)} ${run.requestsPerSecond.toFixed(0).padStart(6)} req/s  ${run.callsPerRequest.toFixed(4)} calls/req`)
        problems.push(...checkRun(group, one.series.row, run, options))
      }
    }
    return {
      framework,
      holders,
      delayMs: options.delayMs,
      bare: bare.series.runs,
      guarded: guarded.series.runs,
      bytesPerHolder: holders >= 100 ? (heapAfter - heapBefore) / (holders - 1) : undefined,
    }
  } finally {
    await Promise.all(servers.map((server) => server.close()))
  }
}
