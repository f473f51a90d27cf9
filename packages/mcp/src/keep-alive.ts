/**
 * Work a paid call leaves running once its result is out: the commit of its credits (on a
 * batched gate, until the batch is burned) or the release of a reservation. Nothing needs to wait
 * for it on Node, Deno or Bun; Workers stop a request's pending work once its response is sent,
 * so there the stateless helpers hand it to `ctx.waitUntil()`.
 *
 * The link from a tool call to its HTTP request is the `requestInfo` object the Streamable HTTP
 * transport builds per request and the SDK passes, as it is, to every handler's `extra`.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'

type Sink = (work: Promise<unknown>) => void

/**
 * One registry per realm, whatever copy of this module runs: the CommonJS and ES builds of the
 * package, and each of its entry points (`@plangate/mcp`, `/web`), each carry their own.
 */
const REGISTRY = Symbol.for('plangate.mcp.pendingWork')
const sinks: WeakMap<object, Sink> = ((globalThis as Record<symbol, unknown>)[REGISTRY] as WeakMap<object, Sink> | undefined) ?? ((globalThis as Record<symbol, unknown>)[REGISTRY] = new WeakMap<object, Sink>())

/** Hands `work` to whoever keeps the request that `extra` came with alive (nobody, by default). */
export function keepAlive(extra: { requestInfo?: unknown } | undefined, work: Promise<unknown>): void {
  const info = extra?.requestInfo
  if (typeof info === 'object' && info !== null) sinks.get(info)?.(work)
}

/**
 * From now on, the work of every call that reaches `transport` goes to `sink`. Call it after
 * `server.connect(transport)`, which sets the transport's `onmessage`.
 */
export function collectWork(transport: Pick<Transport, 'onmessage'>, sink: Sink): void {
  const deliver = transport.onmessage
  if (deliver === undefined) throw new Error('plangate: collectWork(transport) must follow server.connect(transport).')
  transport.onmessage = (message, extra) => {
    const info = extra?.requestInfo
    if (typeof info === 'object' && info !== null) sinks.set(info, sink)
    deliver(message, extra)
  }
}
