import { type Lease } from '@plangate/core'
import { abortBalance, endLease, type UsageOf } from '@plangate/core/adapter'
import type { Context } from 'hono'

/** The Node response under @hono/node-server, as far as the charge needs it. */
export interface ClosingResponse {
  readonly headersSent: boolean
  readonly writableFinished?: boolean
  once(event: 'close', listener: () => void): unknown
}

/** What `meterOnClose` hands back as the charge's promise: nothing awaits it under @hono/node-server. */
const CHARGED_ON_CLOSE: Promise<unknown> = Promise.resolve()

/**
 * Under @hono/node-server the Node response says how the answer ended ('close' comes last: after
 * it was sent whole, or alone when the client went away), so the body is left as it is: wrapping
 * it in a web stream made a metered request cost 2.4 times a fixed-cost one (BENCHMARKS.md).
 *
 * One 'close' listener, added before the route runs, does both jobs of a metered request: a
 * client gone before the end aborts the balance's signal, and, once the middleware has called
 * the function this returns (the answer is a 2xx being sent), the charge is taken as the answer
 * ended. A request that never calls it was released by the middleware. One listener and one
 * closure rather than one each plus a promise: each costs every metered request.
 */
export function meterOnClose(outgoing: ClosingResponse, lease: Lease): (usage: UsageOf | undefined) => Promise<unknown> {
  let charging = false
  let usage: UsageOf | undefined
  outgoing.once('close', () => {
    if (!outgoing.writableFinished) abortBalance(lease.balance)
    if (charging) void endLease(lease, outgoing.writableFinished ? 'served' : outgoing.headersSent ? 'cut' : 'failed', usage)
  })
  return (of) => {
    charging = true
    usage = of
    return CHARGED_ON_CLOSE
  }
}

/**
 * A route priced by usage may stream: its answer is a Response whose body the runtime reads after
 * the middleware has returned, while the route goes on calling `balance.use()`. So the charge is
 * taken when the body has been read to its end (`served`), or when the runtime cancels it because
 * the client went away (`cut`: what was reported until then). Only metered routes pay for the
 * wrapper; a fixed cost is charged as the middleware returns.
 *
 * Resolves once the lease is ended (for `waitUntil` on Workers).
 */
export function chargeWhenBodyEnds(c: Context, lease: Lease, usage: UsageOf | undefined): Promise<unknown> {
  const answer = c.res
  const body = answer.body
  if (body === null) return endLease(lease, 'served', usage)
  let ended: ((value: unknown) => void) | undefined
  const settled = new Promise((resolve) => (ended = resolve))
  const end = (ending: 'served' | 'cut') => {
    const resolve = ended
    ended = undefined
    resolve?.(endLease(lease, ending, usage))
  }
  const reader = body.getReader()
  const metered = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>
      try {
        chunk = await reader.read()
      } catch (error) {
        end('cut')
        controller.error(error)
        return
      }
      if (chunk.done) {
        controller.close()
        end('served')
      } else {
        controller.enqueue(chunk.value)
      }
    },
    cancel(reason) {
      end('cut')
      return reader.cancel(reason)
    },
  })
  c.res = new Response(metered, { status: answer.status, statusText: answer.statusText, headers: answer.headers })
  return settled
}
