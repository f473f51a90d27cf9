import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import https from 'node:https'
import { forwardedHeaders, hasBody, reason, reservedNames, watch, type Incoming } from './forward'
import { passedOnHeaders, preflightResponseHeaders } from './headers'
import type { ResolvedProxyOptions } from './options'
import { problemResponse } from './problem'

/** Called once the upstream's body has ended, with its trailers (names in lower case), before the body's end reaches the caller. */
export type OnTrailers = (trailers: IncomingHttpHeaders) => void

// Statuses whose answer has no body (a Response refuses one).
const NULL_BODY = new Set([101, 103, 204, 205, 304])

/**
 * The forwarder of a route priced by usage, over node:http(s) rather than fetch: fetch does not
 * expose trailers, and an upstream may report what a streamed answer used in a trailer at its end.
 * Everything else is as createForwarder does it: both bodies streamed, a refused or broken
 * connection a 502, `timeoutMs` of silence (no upload progress, no response headers) a 504, the
 * upstream call cancelled when the caller leaves, redirects passed on, not followed.
 *
 * One difference: node:http decodes nothing, so a compressed answer goes to the caller as the
 * upstream encoded it, with its `Content-Encoding` and `Content-Length` (fetch decodes it).
 *
 * @example
 * const forward = createNodeForwarder(config)
 * const response = await forward(incoming, (trailers) => console.log(trailers['x-usage-credits']))
 */
export function createNodeForwarder(config: ResolvedProxyOptions): (incoming: Incoming, onTrailers: OnTrailers) => Promise<Response> {
  const reserved = reservedNames(config)
  const client = new URL(config.upstream).protocol === 'https:' ? https : http

  return function forward({ request, pathname, freePreflight, balance, clientAddress }, onTrailers) {
    const method = request.method
    const headers = forwardedHeaders(config, reserved, { request, balance, clientAddress })
    const signal = request.signal
    return new Promise<Response>((resolve) => {
      const outgoing = client.request(`${config.upstream}${pathname}${new URL(request.url).search}`, { method, headers: nodeHeaders(headers) })
      let answered = false
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        outgoing.destroy(new Error('upstream timed out'))
      }, config.timeoutMs)
      // The caller leaving before the answer's head cancels the upstream call, upload included.
      // From the head on, the server cancels the body it is sending, which destroys the upstream's.
      const onClientGone = () => outgoing.destroy(new Error('the caller went away'))
      const answer = (response: Response) => {
        answered = true
        clearTimeout(timer)
        signal.removeEventListener('abort', onClientGone)
        resolve(response)
      }

      outgoing.on('error', (error) => {
        // After the head, a broken connection ends the body stream (see bodyOf): nothing to answer.
        if (answered) return
        if (timedOut) {
          config.logger.warn(`the upstream sent no answer to ${method} ${pathname} within ${config.timeoutMs} ms (504)`)
          return answer(problemResponse('UPSTREAM_TIMEOUT', config.planId, `The API behind this proxy did not answer within ${config.timeoutMs} ms; nothing was charged.`))
        }
        if (!signal.aborted) config.logger.warn(`the upstream could not be reached for ${method} ${pathname} (502): ${reason(error)}`)
        answer(problemResponse('UPSTREAM_UNREACHABLE', config.planId, 'The API behind this proxy could not be reached; nothing was charged.'))
      })
      outgoing.on('response', (res) => {
        try {
          answer(responseOf(res, method, freePreflight, onTrailers))
        } catch (error) {
          // A head a Response cannot hold (a status outside 200-599): as broken as no answer.
          res.destroy()
          config.logger.warn(`the upstream sent an unusable answer to ${method} ${pathname} (502): ${reason(error)}`)
          answer(problemResponse('UPSTREAM_UNREACHABLE', config.planId, 'The API behind this proxy could not be reached; nothing was charged.'))
        }
      })

      if (signal.aborted) onClientGone()
      else signal.addEventListener('abort', onClientGone, { once: true })
      // Every chunk of the upload restarts the clock: a long upload is not a silent upstream.
      const progress = () => {
        if (!answered) timer.refresh()
      }
      if (hasBody(request)) void upload(watch(request.body!, progress), outgoing)
      else outgoing.end()
    })
  }
}

/** The caller's Response from the upstream's head; the body streams from `res` as it arrives. */
function responseOf(res: IncomingMessage, method: string, freePreflight: boolean, onTrailers: OnTrailers): Response {
  const status = res.statusCode ?? 0
  const raw = new Headers()
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) raw.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!)
  const init = { status, statusText: res.statusMessage ?? '' }
  if (freePreflight) {
    // Nothing of the body, and no header a browser does not read of a preflight: see preflightResponseHeaders.
    res.destroy()
    return new Response(null, { ...init, headers: preflightResponseHeaders(raw) })
  }
  if (method === 'HEAD' || NULL_BODY.has(status)) {
    res.resume()
    return new Response(null, { ...init, headers: passedOnHeaders(raw) })
  }
  return new Response(bodyOf(res, onTrailers), { ...init, headers: passedOnHeaders(raw) })
}

/** The upstream's body as a web stream, read only as fast as the caller takes it. */
function bodyOf(res: IncomingMessage, onTrailers: OnTrailers): ReadableStream<Uint8Array> {
  let done = false
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.on('data', (chunk: Buffer) => {
        if (done) return
        controller.enqueue(chunk)
        if ((controller.desiredSize ?? 0) <= 0) res.pause()
      })
      res.once('end', () => {
        if (done) return
        done = true
        // The trailers are read by now, and the charge is taken after the caller's body ends.
        onTrailers(res.trailers)
        controller.close()
      })
      const cut = (error: Error) => {
        if (done) return
        done = true
        controller.error(error)
      }
      res.once('error', cut)
      res.once('close', () => {
        if (!res.complete) cut(new Error('the upstream cut its answer short'))
      })
    },
    pull() {
      res.resume()
    },
    cancel() {
      done = true
      res.destroy()
    },
  })
}

/** Streams the caller's upload into the upstream request, holding back while it cannot take more. */
async function upload(body: ReadableStream<Uint8Array>, outgoing: ClientRequest): Promise<void> {
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (outgoing.destroyed) {
        void reader.cancel().catch(() => {})
        return
      }
      if (done) break
      if (!outgoing.write(value)) await drained(outgoing)
    }
    outgoing.end()
  } catch (error) {
    // The caller's upload broke (it went away): the upstream must not take half of it as whole.
    outgoing.destroy(error instanceof Error ? error : new Error(String(error)))
  }
}

/** Resolves once the request can take more, or is gone (then the next read finds it destroyed). */
function drained(outgoing: ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const go = () => {
      outgoing.off('drain', go)
      outgoing.off('close', go)
      resolve()
    }
    outgoing.on('drain', go)
    outgoing.on('close', go)
  })
}

/** Headers as node:http takes them; `Set-Cookie` (the one name not joined with commas) as a list. */
function nodeHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of headers) if (name !== 'set-cookie') out[name] = value
  const cookies = headers.getSetCookie()
  if (cookies.length > 0) out['set-cookie'] = cookies
  return out
}
