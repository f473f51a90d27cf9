import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  /** The trailers the answer ended with (names in lower case); set by send. */
  trailers?: IncomingHttpHeaders
  text: string
  /** The body's bytes as received, not decoded; set by send. */
  bytes?: Buffer
}

/**
 * One request over node:http, whose headers are sent exactly as given: fetch refuses Connection,
 * Keep-Alive, Upgrade and friends, which is what these tests need to send.
 */
export function send(url: string, options: { method?: string; headers?: OutgoingHttpHeaders; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const bytes = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, text: bytes.toString('utf8'), bytes })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` })
