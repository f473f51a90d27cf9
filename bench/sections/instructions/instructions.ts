/**
 * Section 5: instructions per request, counted by valgrind's callgrind on the server's main thread.
 * Unlike requests/s or CPU time, a count does not depend on how busy the machine is, so small
 * differences show on a shared machine. Each server runs alone under callgrind: warmed up (so the
 * JIT has settled), its counters zeroed, then a fixed number of requests, then a dump.
 *
 * Servers: bare; guarded with no redemption during the count (a one-hour batch window), which is
 * the gate and the adapter on a warm request; and guarded with immediate settlement, whose excess
 * over the first is what one in-process redemption costs (client and local ledger together). A full
 * run adds three that split the guarded count (bare behind a no-op async middleware, bare behind
 * the floor of lib/servers/floor.ts, and guarded with `headers: false`) and two that redeem over HTTP
 * to the ledger in another process, through Node's `fetch` and through `createNodeFetch()`: there
 * the excess is the client side of a call.
 * The balance cache's TTL is an hour too: under valgrind a run lasts minutes, and balance reads
 * every 30 s would be counted far more often per request than at full speed.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { load } from '../../lib/load'
import { spawnChild } from '../../lib/processes'
import type { Framework, ServerConfig, Upstream } from '../../lib/protocol'

export interface InstructionServer {
  label: string
  /**
   * `noop`: bare behind a middleware that only awaits. `floor`: bare behind the least any plan
   * middleware must do (lib/servers/floor.ts). `guarded, no headers`: requirePlan with `headers: false`.
   * They say what part of the guarded count is not the gate's own work, and what no gate can avoid.
   */
  role: 'bare' | 'noop' | 'floor' | 'guarded' | 'guarded, no headers' | 'guarded, immediate settlement'
  /** Another checkout's bench/ (a --compare baseline). */
  benchDir?: string
  /**
   * Immediate settlement only: redeem against the local ledger served over HTTP in its own process
   * (not counted), through Node's `fetch` or `createNodeFetch()`, instead of in process.
   */
  overHttp?: 'fetch' | 'node'
}

export interface InstructionResult {
  framework: Framework
  label: string
  role: InstructionServer['role']
  /** Measured from a --compare baseline. */
  baseline: boolean
  overHttp?: InstructionServer['overHttp']
  /** Main-thread instructions per request over the counted requests. */
  perRequest: number
  /**
   * Every thread's: V8's helper threads (the garbage collector's parallel and concurrent work, the
   * compiler) as well. Under valgrind threads take turns, so their share is not what it is at full
   * speed, but work they do not do here they do not do there either.
   */
  allThreadsPerRequest: number
  requests: number
}

export interface InstructionOptions {
  frameworks: Framework[]
  servers: InstructionServer[]
  warmup: number
  requests: number
}

const HOUR = 3_600_000

export function hasCallgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
    execFileSync('callgrind_control', ['-h'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export async function measureInstructions(options: InstructionOptions, log: (line: string) => void): Promise<InstructionResult[]> {
  const results: InstructionResult[] = []
  for (const framework of options.frameworks) {
    for (const server of options.servers) {
      const result = await count(framework, server, options)
      const int = (n: number) => Math.round(n).toLocaleString('en-US')
      log(`  ${framework} ${server.label.padEnd(36)} ${int(result.perRequest)} instructions/request (${int(result.allThreadsPerRequest)} in all threads)`)
      results.push(result)
    }
  }
  return results
}

async function count(framework: Framework, server: InstructionServer, options: InstructionOptions): Promise<InstructionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'plangate-callgrind-'))
  const ledger = server.overHttp ? await spawnChild('lib/servers/ledger.ts', { subscribers: 100 }) : undefined
  const upstream: Upstream = ledger
    ? { kind: 'http', baseUrl: ledger.ready.baseUrl!, agentKey: ledger.ready.agentKey!, planId: ledger.ready.planId!, keys: ledger.ready.keys }
    : { kind: 'in-process' }
  const config: ServerConfig = {
    framework,
    guarded: server.role.startsWith('guarded'),
    noop: server.role === 'noop',
    floor: server.role === 'floor',
    headers: server.role !== 'guarded, no headers',
    upstream,
    transport: server.overHttp,
    settle: server.role === 'guarded, immediate settlement' ? 'immediate' : 'batched',
    batchMs: HOUR,
    subscribers: 100,
    route: 'sync',
    cacheTtlMs: HOUR,
  }
  const child = await spawnChild('lib/servers/server.ts', config, {
    ...(server.benchDir ? { benchDir: server.benchDir } : {}),
    wrapper: ['valgrind', '-q', '--tool=callgrind', '--separate-threads=yes', '--smc-check=all-non-file', `--callgrind-out-file=${dir}/cg.%p`],
  })
  try {
    const { port, keys } = child.ready
    const warm = await load({ port, keys, connections: 8, duration: 0, amount: options.warmup })
    if (warm.failures > 0) throw new Error(`bench: ${server.label} ${framework} failed ${warm.failures} warm-up request(s) under valgrind`)
    execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' })
    const counted = await load({ port, keys, connections: 8, duration: 0, amount: options.requests })
    if (counted.failures > 0) throw new Error(`bench: ${server.label} ${framework} failed ${counted.failures} request(s) under valgrind`)
    execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' })
    // The dump after --zero is part 1, one file per thread; thread 01 is the main (JavaScript) one.
    const dumps = readdirSync(dir).filter((name) => /\.1-\d+$/.test(name))
    if (!dumps.some((name) => name.endsWith('.1-01'))) throw new Error(`bench: callgrind wrote no dump of ${server.label} ${framework}'s main thread`)
    const instructionsOf = (name: string): number => {
      const summary = /^summary:\s+(\d+)/m.exec(readFileSync(join(dir, name), 'utf8'))
      if (!summary) throw new Error(`bench: no summary line in callgrind's dump ${name} of ${server.label} ${framework}`)
      return Number(summary[1])
    }
    const main = instructionsOf(dumps.find((name) => name.endsWith('.1-01'))!)
    const all = dumps.reduce((sum, name) => sum + instructionsOf(name), 0)
    return {
      framework,
      label: server.label,
      role: server.role,
      baseline: server.benchDir !== undefined,
      overHttp: server.overHttp,
      perRequest: main / counted.requests,
      allThreadsPerRequest: all / counted.requests,
      requests: counted.requests,
    }
  } finally {
    await child.close()
    await ledger?.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
