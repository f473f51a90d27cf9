import type { PlanBalance } from '@plangate/core'
import { callerResponseHeaders, preflightResponseHeaders, saysBody, upstreamRequestHeaders } from './headers'
import type { ResolvedProxyOptions } from './options'
import { problemResponse } from './problem'

/** What the forwarder needs of a request: the Request itself, what the server knows of it, and what was decided of it. */
export interface Incoming {
  request: Request
  /** The path to send, the one priced (see canonicalPath). */
  pathname: string
  /** A CORS preflight let through free: only what a browser reads of the answer goes back. */
  freePreflight: boolean
  /** The caller's balance after this request, on a charged route. */
  balance: PlanBalance | undefined
  /** The peer's IP address, where the server says it. */
  clientAddress: string | undefined
}

/**
 * Sends a request on to the upstream and answers with what it answers, both bodies streamed:
 * nothing is held in memory but the chunk in transit. A refused or broken connection is a 502;
 * an upstream that stays silent for `timeoutMs` (no upload progress, no response headers) a 504.
 */
export function createForwarder(config: ResolvedProxyOptions): (incoming: Incoming) => Promise<Response> {
  const reserved = reservedNames(config)

  return async function forward({ request, pathname, freePreflight, balance, clientAddress }) {
    const method = request.method
    const url = new URL(request.url)
    const headers = forwardedHeaders(config, reserved, { request, balance, clientAddress })

    const controller = new AbortController()
    // The caller leaving cancels the upstream call, body included.
    const signal = request.signal
    const onClientGone = () => controller.abort(signal.reason)
    if (signal.aborted) onClientGone()
    else signal.addEventListener('abort', onClientGone, { once: true })

    let answered = false
    let timedOut = false
    const expire = () => {
      timedOut = true
      controller.abort(new Error('upstream timed out'))
    }
    let timer = setTimeout(expire, config.timeoutMs)
    // Every chunk of the upload restarts the clock: a long upload is not a silent upstream.
    const progress = () => {
      if (answered) return
      if (typeof timer === 'object' && typeof timer.refresh === 'function') timer.refresh()
      else {
        clearTimeout(timer)
        timer = setTimeout(expire, config.timeoutMs)
      }
    }

    const body = hasBody(request) ? watch(request.body!, progress) : undefined
    let response: Response
    try {
      response = await config.fetch(`${config.upstream}${pathname}${url.search}`, {
        method,
        headers,
        body,
        duplex: 'half',
        redirect: 'manual',
        signal: controller.signal,
      })
    } catch (error) {
      if (timedOut) {
        config.logger.warn(`the upstream sent no answer to ${method} ${pathname} within ${config.timeoutMs} ms (504)`)
        return problemResponse('UPSTREAM_TIMEOUT', config.planId, `The API behind this proxy did not answer within ${config.timeoutMs} ms; nothing was charged.`)
      }
      if (!signal.aborted) config.logger.warn(`the upstream could not be reached for ${method} ${pathname} (502): ${reason(error)}`)
      return problemResponse('UPSTREAM_UNREACHABLE', config.planId, 'The API behind this proxy could not be reached; nothing was charged.')
    } finally {
      answered = true
      clearTimeout(timer)
      // From here the server cancels the body it is sending when the caller leaves, and the
      // cancel reaches the upstream: an abort now would only turn that into an error to log.
      signal.removeEventListener('abort', onClientGone)
    }
    if (freePreflight) {
      // Nothing of the body, and no header a browser does not read of a preflight: see preflightResponseHeaders.
      void response.body?.cancel().catch(() => {})
      return new Response(null, { status: response.status, statusText: response.statusText, headers: preflightResponseHeaders(response.headers) })
    }
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: callerResponseHeaders(response, method) })
  }
}

/** The names of the headers only the proxy may send the upstream (lower case). */
export function reservedNames(config: ResolvedProxyOptions): string[] {
  return Object.values(config.upstreamHeaders).filter((name): name is string => name !== false).map((name) => name.toLowerCase())
}

/** The upstream's request headers: the caller's (see upstreamRequestHeaders) and who paid. */
export function forwardedHeaders(config: ResolvedProxyOptions, reserved: readonly string[], { request, balance, clientAddress }: Pick<Incoming, 'request' | 'balance' | 'clientAddress'>): Headers {
  const url = new URL(request.url)
  const headers = upstreamRequestHeaders(request.headers, {
    reserved,
    keepMethodOverride: config.methodOverride,
    clientAddress,
    host: url.host,
    protocol: url.protocol.slice(0, -1),
  })
  const names = config.upstreamHeaders
  if (balance) {
    if (names.remaining) headers.set(names.remaining, String(balance.remaining))
    if (names.holder) headers.set(names.holder, balance.holderAddress)
    if (names.plan) headers.set(names.plan, balance.planId)
    if (names.cost) headers.set(names.cost, String(balance.cost))
  }
  return headers
}

export function hasBody(request: Request): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.body === null) return false
  return saysBody(request.headers)
}

export function watch(body: ReadableStream<Uint8Array>, onChunk: () => void): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        onChunk()
        controller.enqueue(chunk)
      },
      flush: onChunk,
    }),
  )
}

/** The network error behind fetch's "fetch failed", for the log: `connect ECONNREFUSED 127.0.0.1:8080`. */
export function reason(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause
  const message = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error)
  return message.slice(0, 200)
}
