/**
 * The peer comparison: the same route, bare and behind each middleware a user would choose between
 * (plangate, Nevermined's own `paymentMiddleware`, Coinbase's `@x402/express` / `@x402/hono`), in one
 * run, every guarded server talking to one stand-in API (lib/peers/upstream.ts) whose every call waits
 * `delayMs`, as the real one, across the internet, does. Each server is its own process; they are
 * loaded in turn, in an order that alternates round by round so drift on a shared machine hits all.
 */
import { spawnChild, type Child } from '../../lib/processes'
import type { Framework } from '../../lib/protocol'
import { headersFor, x402Payloads } from '../../lib/peers/credentials'
import { checkRun, drainMs, measureOnce, peerConfig, quiet, warm, type PeerGroup, type PeerOptions, type PeerRow, type Running } from '../../lib/peers/harness'
import type { PeerKind, PeerRoute } from '../../lib/peers/protocol'
import { hasNeverminedSdk, sdkMissingLine, sdkRequired } from '../../lib/peers/nvm-sdk-bundle'
import { calibrate } from '../../lib/peers/routes'

/**
 * The rows of one framework. Nevermined's middleware is Express only, and runs where its bundle is
 * (always under CI; see lib/peers/nvm-sdk-bundle.ts).
 */
export function peerRows(framework: Framework, withNeverminedSdk = hasNeverminedSdk() || sdkRequired()): PeerRow[] {
  return [
    { label: 'bare', peer: 'bare', credential: 'key' },
    { label: 'plangate, batched, API key', peer: 'plangate-batched', credential: 'key' },
    { label: 'plangate, batched, x402 token', peer: 'plangate-batched', credential: 'token' },
    { label: 'plangate, immediate, API key', peer: 'plangate-immediate', credential: 'key' },
    { label: 'plangate, immediate, x402 token', peer: 'plangate-immediate', credential: 'token' },
    ...(framework === 'express' && withNeverminedSdk ? [{ label: 'Nevermined paymentMiddleware 1.11 (verify + settle per request)', peer: 'nvm-sdk' as const, credential: 'token' as const }] : []),
    { label: `@x402/${framework} 2.27 (verify + settle per request)`, peer: 'x402', credential: 'payload' },
  ]
}

export async function measurePeers(options: PeerOptions, log: (line: string) => void, problems: string[]): Promise<PeerGroup[]> {
  const cpuIterations = calibrate(1)
  if (!hasNeverminedSdk() && !sdkRequired()) log(`peers: ${sdkMissingLine()}`)
  const groups: PeerGroup[] = []
  for (const delayMs of options.delays) {
    const upstream = await spawnChild('lib/peers/upstream.ts', { holders: options.holders, delayMs, tokens: true })
    try {
      for (const framework of options.frameworks) {
        for (const route of options.routes) {
          log(`peers: ${framework}, API ${delayMs} ms away, ${route} route`)
          groups.push(await measureGroup({ framework, delayMs, route, rows: peerRows(framework), cpuIterations }, upstream, options, log, problems))
        }
      }
    } finally {
      await upstream.close()
    }
  }
  return groups
}

export async function measureGroup(
  group: { framework: Framework; delayMs: number; route: PeerRoute; rows: PeerRow[]; cpuIterations: number },
  upstream: Child,
  options: Pick<PeerOptions, 'rounds' | 'duration' | 'amount' | 'warmupSeconds' | 'connections' | 'holders' | 'batchMs'>,
  log: (line: string) => void,
  problems: string[],
): Promise<PeerGroup> {
  const ready = upstream.ready
  const servers = new Map<PeerKind, Child>()
  try {
    for (const peer of new Set(group.rows.map((row) => row.peer))) {
      servers.set(peer, await spawnChild('lib/peers/server.ts', peerConfig(group, peer, ready, options), { nodeFlags: ['--expose-gc'] }))
    }
    const x402 = servers.get('x402')
    const payloads = x402 ? await x402Payloads(x402.ready.port, ready.keys.length) : []
    const running: Running[] = group.rows.map((row) => ({ series: { row, runs: [] }, server: servers.get(row.peer)!, headers: headersFor(row.credential, ready, payloads) }))
    for (const one of running) await warm(one, options)
    await quiet(upstream, drainMs('plangate-batched', group.delayMs, options.batchMs), group.delayMs)
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? running : [...running].reverse()
      for (const one of order) {
        const run = await measureOnce(one, upstream, group.delayMs, options)
        one.series.runs.push(run)
        log(
          `  round ${round + 1} ${one.series.row.label.slice(0, 40).padEnd(40)} ${run.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  ${run.callsPerRequest.toFixed(3)} calls/req`,
        )
        problems.push(...checkRun(group, one.series.row, run, options))
      }
    }
    return { framework: group.framework, delayMs: group.delayMs, route: group.route, series: running.map((one) => one.series) }
  } finally {
    await Promise.all([...servers.values()].map((server) => server.close()))
  }
}

