import type { IncomingHttpHeaders } from 'node:http'
import type { FetchResponse } from '@plangate/core'

/**
 * An answer already read in full: what plangate's client reads of a `Response` (status, headers,
 * JSON body), without the streams and the header list a `Response` builds.
 */
export class NodeFetchResponse implements FetchResponse {
  readonly status: number
  readonly ok: boolean
  readonly headers: { get(name: string): string | null }
  /** Always `null`: the body was read before the answer resolved, so there is nothing to cancel. */
  readonly body = null
  readonly #text: string

  constructor(status: number, headers: IncomingHttpHeaders, text: string) {
    this.status = status
    this.ok = status >= 200 && status <= 299
    this.headers = { get: (name) => headerValue(headers, name) }
    this.#text = text
  }

  /** The body as text (a UTF-8 byte order mark is dropped, as `Response.text()` does). */
  text(): Promise<string> {
    return Promise.resolve(this.#text.charCodeAt(0) === 0xfeff ? this.#text.slice(1) : this.#text)
  }

  /** The body parsed as JSON; rejects with a `SyntaxError` when it is not JSON, like `Response.json()`. */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text())
  }
}

/** Like `Headers.get`: case-insensitive, repeated headers joined with ", ", `null` when absent. */
function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name.toLowerCase()]
  if (value === undefined) return null
  return Array.isArray(value) ? value.join(', ') : value
}
