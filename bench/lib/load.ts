/**
 * One autocannon run against a server, in this (the orchestrator's) process. autocannon's own
 * latency histogram has whole-millisecond resolution, too coarse for sub-millisecond answers, so
 * each response's time (a float, in ms) is also collected here for p50/p99.
 */
import autocannon from 'autocannon'

export interface LoadOptions {
  port: number
  /** Subscriber keys: request i of each connection sends key i mod keys.length. */
  keys: string[]
  connections: number
  /** Seconds, or a number of requests (`amount`) when given. */
  duration: number
  amount?: number
  /**
   * Instead of `keys`: the headers of each request, handed out round-robin over all connections
   * (request n of the run, whichever connection sends it, gets set n mod length), so every holder
   * is active however many there are.
   */
  headers?: Record<string, string>[]
}

export interface LoadResult {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  requests: number
  /** Non-2xx answers, errors and time-outs: any is a broken harness. */
  failures: number
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const times: number[] = []
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${options.port}/ask`,
        connections: options.connections,
        // A request slower than this counts as failed; 10 s (autocannon's default) is reached on a
        // saturated shared machine by a middleware making two upstream calls per request.
        timeout: 30,
        // With `amount`, autocannon ends at its next sample tick: 100 ms rather than a second.
        ...(options.amount === undefined ? { duration: options.duration } : { amount: options.amount, sampleInt: 100 }),
        // Built once by autocannon (no setupRequest), so rotating keys costs the generator nothing.
        requests: options.headers ? [roundRobin(options.headers)] : options.keys.map((key) => ({ method: 'GET' as const, path: '/ask', headers: { authorization: `Bearer ${key}` } })),
      },
      (error: unknown, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    )
    instance.on('response', (_client, _status, _bytes, responseTime) => times.push(responseTime))
  })
  times.sort((a, b) => a - b)
  const seconds = options.amount === undefined ? options.duration : result.duration
  return {
    requestsPerSecond: result.requests.total / seconds,
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    requests: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
  }
}

function roundRobin(sets: Record<string, string>[]): autocannon.Request {
  let next = 0
  return { method: 'GET', path: '/ask', setupRequest: (request) => ({ ...request, headers: sets[next++ % sets.length]! }) }
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}
