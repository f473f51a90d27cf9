/**
 * Section 1: what `requirePlan` costs a server. For each framework and upstream, a bare server and
 * the same route behind `requirePlan` (each in its own process) are loaded in turn by autocannon
 * from this process, alternating A B B A A B … so that drift on a shared machine hits both alike.
 */
import { load, type LoadResult } from '../../lib/load'
import { spawnChild, type Child } from '../../lib/processes'
import type { Framework, Route, ServerConfig, Settle, Upstream } from '../../lib/protocol'

export interface Variant {
  upstream: 'in-process' | 'http'
  settle: Settle
  route: Route
  /** Also measure the bare route behind a middleware that only awaits: what any async middleware costs. */
  noop?: boolean
  /** Also measure the bare route behind the floor (lib/servers/floor.ts): the best any plan middleware could do. */
  floor?: boolean
  /** The batch window, when not the run's `--batch-ms`. */
  batchMs?: number
  /** Over HTTP: also measure the guarded server with `createNodeFetch()` (@plangate/node) as its transport. */
  nodeTransport?: boolean
}

/**
 * Batched rows use the run's `--batch-ms` (default 1000 ms, the window BENCHMARKS.md recommends)
 * unless they name their own; one row per upstream shows a short 50 ms window for comparison.
 */
export const VARIANTS: Variant[] = [
  { upstream: 'in-process', settle: 'immediate', route: 'sync' },
  { upstream: 'in-process', settle: 'batched', route: 'sync', noop: true, floor: true },
  { upstream: 'in-process', settle: 'batched', route: 'sync', batchMs: 50 },
  { upstream: 'in-process', settle: 'batched', route: 'async', noop: true, floor: true },
  { upstream: 'http', settle: 'immediate', route: 'sync', nodeTransport: true },
  { upstream: 'http', settle: 'batched', route: 'sync', floor: true, nodeTransport: true },
  { upstream: 'http', settle: 'batched', route: 'sync', batchMs: 50, nodeTransport: true },
]

export interface ThroughputOptions {
  frameworks: Framework[]
  variants: Variant[]
  rounds: number
  /** Seconds per measurement, or `amount` requests when given (the quick CI run). */
  duration: number
  amount?: number
  /** Load before the measured rounds (0: none, for the quick check). */
  warmupSeconds: number
  connections: number
  subscribers: number
  batchMs: number
  /** Also run the guarded server from another checkout (`--compare <ref>`). */
  baseline?: { benchDir: string; label: string }
  /** Write a CPU profile of every server under this directory, one folder per server. */
  profileDir?: string
}

export interface Measurement extends LoadResult {
  /** Upstream calls (balance + order + redeem) per request, counted by the ledger. */
  callsPerRequest: number
  orders: number
  /**
   * The server process's CPU time per request (µs), settlement included (measured until its
   * redemptions have landed), in user space (JavaScript, GC) and in the kernel (mostly the socket
   * writes). Steadier than requests/s on a shared machine: it does not depend on how much of a
   * core the server got.
   */
  userMicrosPerRequest: number
  systemMicrosPerRequest: number
}

export interface ServerSeries {
  label: string
  role: 'bare' | 'noop' | 'floor' | 'guarded'
  runs: Measurement[]
}

export interface PairResult {
  framework: Framework
  variant: Variant
  servers: ServerSeries[]
}

export async function measureThroughput(options: ThroughputOptions, log: (line: string) => void): Promise<PairResult[]> {
  const results: PairResult[] = []
  for (const framework of options.frameworks) {
    for (const variant of options.variants) {
      log(`throughput: ${framework}, ${describeVariant(variant, options.batchMs)}`)
      results.push(await measurePair(framework, variant, options, log))
    }
  }
  return results
}

interface Running {
  series: ServerSeries
  child: Child
}

async function measurePair(framework: Framework, variant: Variant, options: ThroughputOptions, log: (line: string) => void): Promise<PairResult> {
  const started: Child[] = []
  try {
    let upstream: Upstream = { kind: 'in-process' }
    let ledger: Child | undefined
    if (variant.upstream === 'http') {
      ledger = await spawnChild('lib/servers/ledger.ts', { subscribers: options.subscribers })
      started.push(ledger)
      const { baseUrl, agentKey, planId, keys } = ledger.ready
      upstream = { kind: 'http', baseUrl: baseUrl!, agentKey: agentKey!, planId: planId!, keys }
    }
    const config = (role: ServerSeries['role'], transport: ServerConfig['transport']): ServerConfig => ({
      framework,
      guarded: role === 'guarded',
      noop: role === 'noop',
      floor: role === 'floor',
      transport,
      upstream,
      settle: variant.settle,
      batchMs: variant.batchMs ?? options.batchMs,
      subscribers: options.subscribers,
      route: variant.route,
    })
    const start = async (label: string, role: ServerSeries['role'], benchDir?: string, transport: ServerConfig['transport'] = 'fetch'): Promise<Running> => {
      const child = await spawnChild('lib/servers/server.ts', config(role, transport), {
        ...(benchDir ? { benchDir } : {}),
        ...(options.profileDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}/${profileFolder(framework, variant, label)}`] } : {}),
      })
      started.push(child)
      return { series: { label, role, runs: [] }, child }
    }
    const servers = await Promise.all([
      start('bare', 'bare'),
      ...(variant.noop ? [start('bare + no-op async middleware', 'noop')] : []),
      ...(variant.floor ? [start('bare + floor middleware', 'floor')] : []),
      start('guarded', 'guarded'),
      ...(variant.upstream === 'http' && variant.nodeTransport ? [start('guarded, createNodeFetch', 'guarded', undefined, 'node')] : []),
      ...(options.baseline ? [start(`guarded (${options.baseline.label})`, 'guarded', options.baseline.benchDir)] : []),
    ])

    for (const server of servers) {
      await probe(server)
      if (options.warmupSeconds > 0) {
        // Warm: every key verified and cached, the JIT settled.
        const { port, keys } = server.child.ready
        const warm = await load({ port, keys, connections: options.connections, duration: options.warmupSeconds })
        if (warm.failures > 0) throw new Error(`bench: ${server.series.label} ${framework} server failed ${warm.failures} warm-up request(s)`)
      }
      await server.child.command('quiesce')
    }

    for (let round = 0; round < options.rounds; round++) {
      // A B, then B A: each server goes first as often as the other.
      const order = round % 2 === 0 ? servers : [...servers].reverse()
      for (const server of order) {
        const counters = ledger ?? server.child
        const before = (await counters.command('counters')).counters
        const cpuBefore = (await server.child.command('cpu')).cpu
        const result = await load({
          port: server.child.ready.port,
          keys: server.child.ready.keys,
          connections: options.connections,
          duration: options.duration,
          ...(options.amount ? { amount: options.amount } : {}),
        })
        const { outstanding } = await server.child.command('quiesce')
        const cpuAfter = (await server.child.command('cpu')).cpu
        const user = (cpuAfter?.user ?? 0) - (cpuBefore?.user ?? 0)
        const system = (cpuAfter?.system ?? 0) - (cpuBefore?.system ?? 0)
        const after = (await counters.command('counters')).counters
        const total = (c: Record<string, number>) => Object.values(c).reduce((sum, n) => sum + n, 0)
        const calls = before && after ? total(after) - total(before) : 0
        const orders = before && after ? after.order - before.order : 0
        const perRequest = (n: number) => (result.requests ? n / result.requests : 0)
        server.series.runs.push({
          ...result,
          callsPerRequest: perRequest(calls),
          orders,
          userMicrosPerRequest: perRequest(user),
          systemMicrosPerRequest: perRequest(system),
        })
        log(
          `  round ${round + 1} ${server.series.label.padEnd(20)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  CPU/req ${perRequest(user).toFixed(1)} µs user + ${perRequest(system).toFixed(1)} µs system  ${perRequest(calls).toFixed(3)} calls/req`,
        )
        if (result.failures > 0) throw new Error(`bench: ${server.series.label} answered ${result.failures} request(s) with an error or non-2xx`)
        if (orders > 0) throw new Error(`bench: the warm ${server.series.label} server ordered ${orders} time(s); the measured phase must never order`)
        if (outstanding) throw new Error(`bench: ${outstanding} credit(s) still unsettled 10 s after the load ended`)
        // Immediate settlement burns after every answer, but one settle per holder at a time: those
        // that find one in flight are merged. At least one call, then; at most one per request.
        if (server.series.role === 'guarded' && result.requests > 0 && variant.settle === 'immediate' && calls < 1) {
          throw new Error(`bench: ${result.requests} guarded requests but no upstream call with immediate settlement`)
        }
      }
    }
    return { framework, variant, servers: servers.map((s) => s.series) }
  } finally {
    await Promise.all(started.map((child) => child.close()))
  }
}

/** One request by hand: a 2xx, and the plan headers exactly when guarded (or behind the floor). */
async function probe({ series, child }: Running): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${child.ready.port}/ask`, { headers: { authorization: `Bearer ${child.ready.keys[0]}` } })
  await response.arrayBuffer()
  const remaining = response.headers.get('x-credits-remaining')
  if (response.status !== 200 || (remaining !== null) !== (series.role === 'guarded' || series.role === 'floor')) {
    throw new Error(`bench: the ${series.label} server answered ${response.status}, X-Credits-Remaining ${remaining}`)
  }
}

function profileFolder(framework: Framework, variant: Variant, label: string): string {
  const batch = variant.settle === 'batched' ? `-${variant.batchMs ?? 'default'}ms` : ''
  return `${framework}-${variant.upstream}-${variant.settle}${batch}-${variant.route}-${label.replace(/[^a-z0-9]+/gi, '-')}`
}

export function describeVariant(variant: Variant, batchMs: number): string {
  const upstream = variant.upstream === 'http' ? 'ledger over HTTP' : 'ledger in process'
  const route = variant.route === 'async' ? ', async route' : ''
  return `${upstream}, ${variant.settle === 'batched' ? `batched (${variant.batchMs ?? batchMs} ms)` : 'immediate'} settlement${route}`
}
