import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http'

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

/**
 * One request over node:http, whose headers are sent exactly as given: fetch refuses Connection,
 * Keep-Alive, Upgrade and friends, which is what these tests need to send.
 */
export function send(url: string, options: { method?: string; headers?: OutgoingHttpHeaders; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` })
