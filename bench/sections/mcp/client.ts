/**
 * The MCP section's load generator, in its own process: warm `tools/call` requests over
 * Streamable HTTP (plain keep-alive HTTP/1.1 POSTs of JSON-RPC, as an MCP client sends them on a
 * stateless server), `concurrency` in flight, to each target in turn, the order rotated every
 * round. Every answer is read (SSE `data:` line or JSON) and must be a successful tool result;
 * failures are counted. Prints JSON (McpLoadResult) last.
 *
 *   node --import tsx --conditions=plangate-source sections/mcp/client.ts '<McpLoadConfig as JSON>'
 */
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import type { McpLoadConfig, McpLoadResult, McpSample, McpTarget } from './protocol'

const config = JSON.parse(process.argv[2]!) as McpLoadConfig
const agent = new http.Agent({ keepAlive: true, maxSockets: config.concurrency })
let failures = 0
let firstFailure: string | undefined
let nextId = 1
/** Calls made to each server, warm-ups included. */
const made: Record<string, number> = {}

function fail(reason: string): void {
  failures++
  firstFailure ??= reason
}

/** The JSON-RPC message of an answer, whichever way the transport sent it. */
function message(contentType: string, text: string): { id?: number; result?: { isError?: boolean }; error?: unknown } {
  if (!contentType.includes('text/event-stream')) return JSON.parse(text) as ReturnType<typeof message>
  const data = text.split('\n').find((line) => line.startsWith('data: '))
  if (data === undefined) throw new Error('an event stream without a data line')
  return JSON.parse(data.slice(6)) as ReturnType<typeof message>
}

function call(target: McpTarget, credential: string): Promise<void> {
  const id = nextId++
  const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 't', arguments: { q: `call ${id}` } } })
  return new Promise((resolve) => {
    const request = http.request(
      target.url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          Authorization: `Bearer ${credential}`,
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (response) => {
        let text = ''
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
        response.on('end', () => {
          try {
            const answer = message(String(response.headers['content-type'] ?? ''), text)
            if (response.statusCode !== 200) fail(`${target.kind}: HTTP ${response.statusCode}: ${text.slice(0, 200)}`)
            else if (answer.id !== id || answer.error !== undefined || answer.result === undefined || answer.result.isError === true) fail(`${target.kind}: ${text.slice(0, 300)}`)
          } catch (error) {
            fail(`${target.kind}: ${String(error)}: ${text.slice(0, 200)}`)
          }
          resolve()
        })
      },
    )
    request.on('error', (error) => {
      fail(`${target.kind}: ${String(error)}`)
      resolve()
    })
    request.end(body)
  })
}

/** `concurrency` loops calling until `count` calls were made or `until` (performance.now()) passed; each call's latency in ms. */
async function drive(target: McpTarget, count: number, until: number): Promise<number[]> {
  const latencies: number[] = []
  let started = 0
  const loop = async () => {
    while (started < count && performance.now() < until) {
      const credential = target.credentials[started++ % target.credentials.length]!
      const t0 = performance.now()
      made[target.kind] = (made[target.kind] ?? 0) + 1
      await call(target, credential)
      latencies.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: config.concurrency }, loop))
  return latencies
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

const samples: McpSample[] = []
for (let round = 0; round < config.rounds; round++) {
  // Rotate who goes first, so no server always runs on a machine warmed (or loaded) by another.
  const order = config.targets.map((_, i) => config.targets[(i + round) % config.targets.length]!)
  for (const target of order) {
    await drive(target, config.warmupCalls, Number.POSITIVE_INFINITY)
    const t0 = performance.now()
    const latencies = await drive(target, config.amount ?? Number.POSITIVE_INFINITY, config.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + config.durationMs)
    const seconds = (performance.now() - t0) / 1_000
    latencies.sort((a, b) => a - b)
    samples.push({ kind: target.kind, round, calls: latencies.length, requestsPerSecond: latencies.length / seconds, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) })
    console.error(`mcp: round ${round + 1}, ${target.kind}: ${(latencies.length / seconds).toFixed(0)} req/s, p50 ${quantile(latencies, 0.5).toFixed(2)} ms`)
  }
}
agent.destroy()
console.log(JSON.stringify({ samples, made, failures, ...(firstFailure === undefined ? {} : { firstFailure }) } satisfies McpLoadResult))
