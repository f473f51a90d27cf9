/**
 * Section 6: bytes allocated per warm request, by V8's sampling heap profiler in the server's
 * process (garbage included). Unlike time, allocation does not depend on the machine's load; unlike
 * the instruction counts, it says which function allocated what, so avoidable allocations can be
 * found and their removal shown. Each server: warmed up, then its allocations over a fixed number
 * of requests, no settlement and no balance read among them (hour-long batch window and cache TTL).
 */
import { load } from '../../lib/load'
import { spawnChild } from '../../lib/processes'
import type { Framework, ServerConfig } from '../../lib/protocol'

export interface AllocationServer {
  label: string
  role: 'bare' | 'noop' | 'floor' | 'guarded'
  /** Another checkout's bench/ (a --compare baseline). */
  benchDir?: string
}

export interface AllocationResult {
  framework: Framework
  label: string
  role: AllocationServer['role']
  bytesPerRequest: number
  /** Allocated by plangate's own functions (the packages' code), per request; by the function. */
  plangateBytesPerRequest: number
  plangateFunctions: Array<{ where: string; bytesPerRequest: number }>
  requests: number
}

export interface AllocationOptions {
  frameworks: Framework[]
  servers: AllocationServer[]
  warmup: number
  requests: number
}

const HOUR = 3_600_000
/** The workspace packages' code, built or not; not node_modules (express, hono…). */
const PLANGATE_CODE = /\/packages\/(core|express|hono|node)\/(src|dist)\//

export async function measureAllocation(options: AllocationOptions, log: (line: string) => void): Promise<AllocationResult[]> {
  const results: AllocationResult[] = []
  for (const framework of options.frameworks) {
    for (const server of options.servers) {
      const result = await allocationOf(framework, server, options)
      log(`  ${framework} ${server.label.padEnd(32)} ${Math.round(result.bytesPerRequest)} bytes/request (${Math.round(result.plangateBytesPerRequest)} in plangate's functions)`)
      results.push(result)
    }
  }
  return results
}

async function allocationOf(framework: Framework, server: AllocationServer, options: AllocationOptions): Promise<AllocationResult> {
  const config: ServerConfig = {
    framework,
    guarded: server.role === 'guarded',
    noop: server.role === 'noop',
    floor: server.role === 'floor',
    upstream: { kind: 'in-process' },
    settle: 'batched',
    batchMs: HOUR,
    subscribers: 100,
    route: 'sync',
    cacheTtlMs: HOUR,
  }
  const child = await spawnChild('lib/servers/server.ts', config, server.benchDir ? { benchDir: server.benchDir } : {})
  try {
    const { port, keys } = child.ready
    const warm = await load({ port, keys, connections: 8, duration: 0, amount: options.warmup })
    if (warm.failures > 0) throw new Error(`bench: ${server.label} ${framework} failed ${warm.failures} warm-up request(s)`)
    await child.command('allocation-start')
    const counted = await load({ port, keys, connections: 8, duration: 0, amount: options.requests })
    const { allocation } = await child.command('allocation-stop')
    if (counted.failures > 0) throw new Error(`bench: ${server.label} ${framework} failed ${counted.failures} request(s) while its allocations were counted`)
    if (!allocation || counted.requests === 0) throw new Error(`bench: no allocation profile from ${server.label} ${framework}`)
    const perRequest = (bytes: number) => bytes / counted.requests
    const ours = Object.entries(allocation.byFunction)
      .filter(([where]) => PLANGATE_CODE.test(where))
      .map(([where, bytes]) => ({ where: where.replace(/ \S*\/packages\//, ' '), bytesPerRequest: perRequest(bytes) }))
      .sort((a, b) => b.bytesPerRequest - a.bytesPerRequest)
    return {
      framework,
      label: server.label,
      role: server.role,
      bytesPerRequest: perRequest(allocation.bytes),
      plangateBytesPerRequest: ours.reduce((sum, f) => sum + f.bytesPerRequest, 0),
      plangateFunctions: ours,
      requests: counted.requests,
    }
  } finally {
    await child.close()
  }
}
