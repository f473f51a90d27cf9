import http from 'node:http'
import https from 'node:https'
import zlib from 'node:zlib'
import type { FetchLike } from '@plangate/core'
import { NodeFetchResponse } from './response'

export interface NodeFetchOptions {
  /** For `http:` URLs. Default: a keep-alive agent of this transport's own. */
  httpAgent: http.Agent
  /** For `https:` URLs (certificate checks, proxies' CAs…). Default: a keep-alive agent of this transport's own. */
  httpsAgent: https.Agent
  /** The largest answer body accepted, in bytes (after decompression); a larger one fails the call. Default 1 MiB. */
  maxBodyBytes: number
}

/** Idle connections are closed after this long (undici's default), or sooner when the server says so. */
const IDLE_MS = 4_000
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

/**
 * A `fetch` for plangate's Nevermined calls on Node, over `node:http`/`node:https` with
 * keep-alive connections. Each call costs the server about a quarter of the CPU of Node's own
 * `fetch` (undici), because it builds no `Request`, `Response` or body stream (BENCHMARKS.md):
 * with immediate settlement that is one call per served request.
 *
 * It does what the gate needs and no more: the body is read whole (at most `maxBodyBytes`) before
 * the answer resolves; `signal` aborts the call at any point; redirects are not followed (a 3xx
 * is an answer like any other, which the gate treats as the API being unavailable); gzip, deflate
 * and br bodies are decoded. It never retries a call that reached the server: a connection reset
 * on a reused keep-alive connection is retried once, on a fresh one, only for GET (a balance read).
 *
 * @example
 * import { createPlanGate } from '@plangate/core'
 * import { createNodeFetch } from '@plangate/node'
 * const gate = createPlanGate({ fetch: createNodeFetch() })   // NVM_API_KEY, NVM_ENVIRONMENT as usual
 */
export function createNodeFetch(options: Partial<NodeFetchOptions> = {}): FetchLike {
  const config = resolveOptions(options)
  return function nodeFetch(url, init) {
    return send(config, url, init, true)
  }
}

function resolveOptions(options: Partial<NodeFetchOptions>): NodeFetchOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('createNodeFetch: options must be an object.')
  const known = ['httpAgent', 'httpsAgent', 'maxBodyBytes']
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw new TypeError(`createNodeFetch: unknown option "${name}"; the options are ${known.join(', ')}.`)
  }
  const { httpAgent, httpsAgent, maxBodyBytes = DEFAULT_MAX_BODY_BYTES } = options
  if (httpAgent !== undefined && !(httpAgent instanceof http.Agent)) {
    throw new TypeError('createNodeFetch: invalid option "httpAgent": expected an http.Agent (new http.Agent({ keepAlive: true })).')
  }
  // https.Agent extends http.Agent, so check the stricter class.
  if (httpsAgent !== undefined && !(httpsAgent instanceof https.Agent)) {
    throw new TypeError('createNodeFetch: invalid option "httpsAgent": expected an https.Agent (new https.Agent({ keepAlive: true })).')
  }
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new TypeError(`createNodeFetch: invalid option "maxBodyBytes": expected a whole number of bytes ≥ 1, got ${String(maxBodyBytes)}.`)
  }
  return {
    httpAgent: httpAgent ?? new http.Agent({ keepAlive: true, timeout: IDLE_MS }),
    httpsAgent: httpsAgent ?? new https.Agent({ keepAlive: true, timeout: IDLE_MS }),
    maxBodyBytes,
  }
}

function send(config: NodeFetchOptions, url: string, init: RequestInit, mayRetry: boolean): Promise<NodeFetchResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url)
    const secure = target.protocol === 'https:'
    if (!secure && target.protocol !== 'http:') throw new TypeError(`createNodeFetch: only http: and https: URLs, got ${target.protocol}`)
    const method = (init.method ?? 'GET').toUpperCase()
    const headers = plainHeaders(init.headers)
    const body = bodyBytes(init.body)
    // Compressed answers are decoded below, but asking for none keeps the common path simple.
    headers['accept-encoding'] ??= 'identity'
    if (body !== undefined) headers['content-length'] = String(body.byteLength)

    const signal = init.signal ?? undefined
    if (signal?.aborted) throw abortReason(signal)
    let settled = false
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      request.destroy()
      reject(error)
    }
    const onAbort = () => fail(abortReason(signal!))

    const request = (secure ? https : http).request(target, {
      method,
      headers,
      agent: secure ? config.httpsAgent : config.httpAgent,
    })
    signal?.addEventListener('abort', onAbort, { once: true })

    request.on('error', (error: NodeJS.ErrnoException) => {
      // The server closed an idle keep-alive connection just as it was reused: the request never
      // reached it. Only a GET is retried; an order or a redemption is never sent twice from here.
      if (!settled && mayRetry && method === 'GET' && request.reusedSocket && error.code === 'ECONNRESET') {
        settled = true
        signal?.removeEventListener('abort', onAbort)
        send(config, url, init, false).then(resolve, reject)
        return
      }
      fail(error)
    })

    request.on('response', (response) => {
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.byteLength
        if (size > config.maxBodyBytes) fail(new Error(`the answer's body is larger than maxBodyBytes (${config.maxBodyBytes}).`))
        else chunks.push(chunk)
      })
      response.on('error', fail)
      response.on('close', () => {
        if (!response.complete) fail(new Error('the connection closed before the whole answer arrived.'))
      })
      response.on('end', () => {
        if (settled) return
        let text: string
        try {
          text = decode(Buffer.concat(chunks, size), response.headers['content-encoding'], config.maxBodyBytes)
        } catch (error) {
          fail(error)
          return
        }
        settled = true
        signal?.removeEventListener('abort', onAbort)
        resolve(new NodeFetchResponse(response.statusCode ?? 0, response.headers, text))
      })
    })

    request.end(body)
  })
}

/** The client passes a plain object; anything else `Headers` accepts is normalised through it. */
function plainHeaders(headers: HeadersInit | undefined): Record<string, string> {
  const plain: Record<string, string> = {}
  if (headers === undefined) return plain
  if (headers instanceof Headers || Array.isArray(headers)) {
    new Headers(headers).forEach((value, name) => (plain[name] = value))
    return plain
  }
  for (const name of Object.keys(headers)) plain[name.toLowerCase()] = headers[name]!
  return plain
}

function bodyBytes(body: RequestInit['body']): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') return Buffer.from(body)
  if (body instanceof Uint8Array) return body
  throw new TypeError('createNodeFetch: the body must be a string or a Uint8Array (the Nevermined calls send JSON text).')
}

function decode(raw: Buffer, encoding: string | undefined, maxBytes: number): string {
  let bytes = raw
  const coding = encoding?.trim().toLowerCase()
  if (coding && coding !== 'identity') {
    const limits = { maxOutputLength: maxBytes }
    if (coding === 'gzip' || coding === 'x-gzip') bytes = zlib.gunzipSync(raw, limits)
    else if (coding === 'deflate') bytes = zlib.inflateSync(raw, limits)
    else if (coding === 'br') bytes = zlib.brotliDecompressSync(raw, limits)
    else throw new Error(`the answer is encoded with "${coding}", which createNodeFetch cannot decode.`)
  }
  return bytes.toString('utf8')
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError')
}
