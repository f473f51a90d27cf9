/**
 * What the sections that load peer servers share (peers, scale, window, redis, calls): the rows
 * and results, the config a peer server starts with, warming a server up, one measured run with
 * the upstream calls it set off, waiting for settlement to drain, and what every run must satisfy.
 * Each server is its own process (lib/peers/server.ts), every guarded one talking to one stand-in API
 * (lib/peers/upstream.ts).
 */
import { load, type LoadResult } from '../load'
import type { Child } from '../processes'
import type { Framework, Ready } from '../protocol'
import type { Credential } from './credentials'
import type { PeerConfig, PeerKind, PeerRoute } from './protocol'
import type { PendingSample } from './pending'

export interface PeerRow {
  label: string
  peer: PeerKind
  credential: Credential
}

export interface PeerRun extends LoadResult {
  /** Calls the stand-in API answered during the run (settlement drained), per request, by kind. */
  calls: Record<string, number>
  callsPerRequest: number
  cpuMicrosPerRequest: number
  /** Credits served and not yet settled while the load ran, when sampled (sections/window/). */
  pending?: PendingSample
}

export interface PeerSeries {
  row: PeerRow
  runs: PeerRun[]
}

export interface PeerGroup {
  framework: Framework
  delayMs: number
  route: PeerRoute
  series: PeerSeries[]
}

export interface PeerOptions {
  frameworks: Framework[]
  delays: number[]
  routes: PeerRoute[]
  rounds: number
  duration: number
  amount?: number
  warmupSeconds: number
  connections: number
  holders: number
  batchMs: number
}

export interface Running {
  series: PeerSeries
  server: Child
  headers: Record<string, string>[]
}

export function peerConfig(group: { framework: Framework; route: PeerRoute; cpuIterations: number }, peer: PeerKind, ready: Ready, options: Pick<PeerOptions, 'batchMs' | 'holders'>): PeerConfig {
  return {
    framework: group.framework,
    peer,
    route: group.route,
    cpuIterations: group.cpuIterations,
    batchMs: options.batchMs,
    holders: options.holders,
    origin: ready.origin!,
    baseUrl: ready.baseUrl!,
    facilitatorUrl: ready.facilitatorUrl!,
    agentKey: ready.agentKey!,
    agentId: ready.agentId!,
    planId: ready.planId!,
  }
}

/** Every holder once by hand (`concurrency` at a time), each answered 2xx; then load, for the JIT. */
export async function warm(one: Running, options: Pick<PeerOptions, 'warmupSeconds' | 'connections'>, concurrency = 64): Promise<void> {
  const { port } = one.server.ready
  let next = 0
  const worker = async () => {
    while (next < one.headers.length) {
      const headers = one.headers[next++]!
      // A 503 is an upstream call that timed out (a loaded machine): asked again, a few times.
      let status = 0
      for (let attempt = 0; attempt < 5 && status !== 200; attempt++) {
        if (attempt > 0) await sleep(200 * attempt)
        const response = await fetch(`http://127.0.0.1:${port}/ask`, { headers })
        await response.arrayBuffer()
        status = response.status
        if (status !== 200 && status !== 503) break
      }
      if (status !== 200) throw new Error(`bench: ${one.series.row.label} answered ${status} while warming up`)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, one.headers.length) }, worker))
  if (options.warmupSeconds > 0) {
    const result = await load({ port, keys: [], headers: one.headers, connections: options.connections, duration: options.warmupSeconds })
    if (result.failures > 0) throw new Error(`bench: ${one.series.row.label} failed ${result.failures} warm-up request(s)`)
  }
}

const total = (counters: Record<string, number> | undefined) => Object.values(counters ?? {}).reduce((sum, n) => sum + n, 0)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** With `samplePending`, also the credits the server held served and not yet settled during the load (lib/peers/pending.ts). */
export async function measureOnce(
  one: Running,
  upstream: Child,
  delayMs: number,
  options: Pick<PeerOptions, 'duration' | 'amount' | 'connections' | 'batchMs'>,
  samplePending = false,
): Promise<PeerRun> {
  // The previous measurement (or warm-up) has drained its settlement already: see the end.
  const before = (await upstream.command('counters')).counters!
  if (samplePending) await one.server.command('pending-start')
  const cpuBefore = (await one.server.command('cpu')).cpu!
  const result = await load({
    port: one.server.ready.port,
    keys: [],
    headers: one.headers,
    connections: options.connections,
    duration: options.duration,
    ...(options.amount ? { amount: options.amount } : {}),
  })
  const cpuAfter = (await one.server.command('cpu')).cpu!
  const pending = samplePending ? (await one.server.command('pending-stop')).pending : undefined
  const after = await quiet(upstream, drainMs(one.series.row.peer, delayMs, options.batchMs), delayMs)
  const calls = Object.fromEntries(Object.keys(after).map((name) => [name, after[name]! - (before[name] ?? 0)]).filter(([, n]) => n !== 0))
  const perRequest = (n: number) => (result.requests ? n / result.requests : 0)
  return {
    ...result,
    calls,
    callsPerRequest: perRequest(total(after) - total(before)),
    cpuMicrosPerRequest: perRequest(cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system),
    ...(pending ? { pending } : {}),
  }
}

/**
 * Waits `minMs`, then until the stand-in API has answered no new call for a while (bounded), and
 * returns its counters: the settlement a run set off is counted with that run, never the next.
 */
export async function quiet(upstream: Child, minMs: number, delayMs: number): Promise<Record<string, number>> {
  await sleep(minMs)
  let last = (await upstream.command('counters')).counters!
  for (let i = 0; i < 40; i++) {
    await sleep(250 + 2 * delayMs)
    const now = (await upstream.command('counters')).counters!
    if (total(now) === total(last)) return now
    last = now
  }
  return last
}

/** How long after the load a server's last upstream calls can still be on their way. */
export function drainMs(peer: PeerKind, delayMs: number, batchMs: number): number {
  return (peer === 'plangate-batched' ? batchMs : 0) + 4 * delayMs + (peer === 'bare' ? 0 : 150)
}

/** What must hold whatever the timing: every request served, and each peer's calls as it promises. */
export function checkRun(group: { framework: Framework; delayMs: number; route: PeerRoute }, row: PeerRow, run: PeerRun, options: Pick<PeerOptions, 'holders' | 'batchMs' | 'connections'>): string[] {
  const where = `peers: ${group.framework}, ${group.delayMs} ms, ${group.route}, ${row.label}`
  const problems: string[] = []
  if (run.failures > 0) problems.push(`${where}: ${run.failures} request(s) failed or answered non-2xx`)
  const n = run.requests
  const calls = (name: string) => run.calls[name] ?? 0
  const expect = (what: string, actual: number, low: number, high: number) => {
    if (actual < low || actual > high) problems.push(`${where}: ${what} was ${actual}, expected ${low === high ? low : `${low} to ${high}`}`)
  }
  // A bare server has no client: calls counted in its turn are another server's late settlement.
  // The load generator stops with up to one request per connection in flight: those were verified
  // (and maybe settled) but are not counted as answered.
  const cut = options.connections
  if (row.peer === 'nvm-sdk') {
    expect('verify calls', calls('verify'), n, n + cut)
    expect('settle calls', calls('settle'), n, n + cut)
  }
  if (row.peer === 'x402') {
    expect('facilitator verify calls', calls('facilitator verify'), n, n + cut)
    expect('facilitator settle calls', calls('facilitator settle'), n, n + cut)
  }
  if (row.peer === 'plangate-immediate') expect('settle calls', calls('settle'), 1, n + cut)
  if (row.peer === 'plangate-batched') {
    // At most one settle per holder per batch window (plus the windows open at either end).
    const windows = Math.ceil((n / run.requestsPerSecond) * 1000 / options.batchMs) + 2
    expect('settle calls', calls('settle'), 1, Math.min(n + cut, options.holders * windows))
  }
  // Balance reads are expected (each holder's is read again every cache.ttlMs); an order is not.
  if (row.peer.startsWith('plangate')) expect('orders while warm', calls('order'), 0, 0)
  return problems
}
