import { createHash } from 'node:crypto'
import http, { type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'

/** What the upstream saw of one request. */
export interface Seen {
  method: string
  url: string
  headers: IncomingHttpHeaders
  /** Raw header names as sent, lower-cased. */
  names: string[]
}

/**
 * An existing API the proxy is put in front of: plain node:http, no plangate in it. Records
 * every request, and lets a test hold a stream open (`releaseStream`) and watch an upload arrive.
 */
export interface Upstream {
  url: string
  seen: Seen[]
  /** Bytes of the current upload received so far. */
  uploaded(): number
  /** Lets `GET /v1/sse` send its last event and end. */
  releaseStream(): void
  /** Event streams whose connection closed before they ended (the caller went away). */
  streamsCut(): number
  /** Requests to `/v1/slow` (never answered) whose connection closed: the proxy gave up on them. */
  slowCut(): number
  close(): Promise<void>
}

export async function startUpstream(): Promise<Upstream> {
  let uploaded = 0
  let cut = 0
  let slowCut = 0
  let release: () => void = () => {}
  let released = new Promise<void>((resolve) => (release = resolve))
  const seen: Seen[] = []
  const hanging = new Set<http.ServerResponse>()

  const server = http.createServer((req, res) => {
    const names: string[] = []
    for (let i = 0; i < req.rawHeaders.length; i += 2) names.push(req.rawHeaders[i]!.toLowerCase())
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, names })
    const path = (req.url ?? '/').split('?')[0]!

    if (path === '/health') return json(res, 200, { ok: true })
    if (path === '/v1/echo') {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        // Hop-by-hop headers of the upstream's own: they must not reach the caller.
        res.setHeader('Connection', 'keep-alive, X-Hop-Secret')
        res.setHeader('X-Hop-Secret', 'connection-scoped')
        res.setHeader('Proxy-Authenticate', 'Basic realm="upstream"')
        res.setHeader('Keep-Alive', 'timeout=7')
        res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/'])
        json(res, 200, { method: req.method, body: Buffer.concat(chunks).toString('utf8') })
      })
      return
    }
    if (path === '/v1/sse') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
      res.write('data: first\n\n')
      res.on('close', () => {
        if (!res.writableFinished) cut += 1
      })
      void released.then(() => res.end('data: last\n\n'))
      return
    }
    if (path === '/v1/upload') {
      uploaded = 0
      const hash = createHash('sha256')
      req.on('data', (chunk: Buffer) => {
        uploaded += chunk.length
        hash.update(chunk)
      })
      req.on('end', () => json(res, 200, { bytes: uploaded, sha256: hash.digest('hex') }))
      return
    }
    if (path === '/v1/slow') {
      hanging.add(res) // never answered: the proxy's timeout must answer for it
      res.on('close', () => (slowCut += 1))
      return
    }
    if (path === '/v1/trailer') {
      // A streamed answer that knows what it used only at its end: ?used= in an X-Usage-Credits
      // trailer (declared in Trailer; ?used absent: declared, never sent), after ?chunks= lines;
      // ?header= sends one in the head as well, ?status= answers another status, ?break cuts the
      // connection where the trailer would be.
      const url = new URL(req.url ?? '/', 'http://upstream')
      const used = url.searchParams.get('used')
      const header = url.searchParams.get('header')
      const status = Number(url.searchParams.get('status') ?? 200)
      // (An answer without a body has no trailers: node:http refuses to declare one.)
      const head: http.OutgoingHttpHeaders = status === 204 ? {} : { 'Content-Type': 'text/plain', Trailer: 'X-Usage-Credits' }
      if (header !== null) head['X-Usage-Credits'] = header
      res.writeHead(status, head)
      const chunks = Number(url.searchParams.get('chunks') ?? 3)
      let sent = 0
      const next = () => {
        if (sent++ < chunks) return void res.write(`line ${sent}\n`, () => setTimeout(next, 5))
        if (url.searchParams.has('break')) return void res.destroy() // the connection breaks before the trailer
        if (used !== null && status !== 204) res.addTrailers({ 'X-Usage-Credits': used })
        res.end()
      }
      next()
      return
    }
    if (path === '/v1/gzip') {
      const body = gzipSync(JSON.stringify({ compressed: true, text: 'x'.repeat(1000) }))
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': body.length })
      return res.end(body)
    }
    const status = /^\/v1\/status\/(\d{3})$/.exec(path)
    if (status) {
      const code = Number(status[1])
      if (code >= 300 && code < 400) res.setHeader('Location', '/v1/echo')
      return json(res, code, { status: code })
    }
    json(res, 404, { error: 'no such route' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    uploaded: () => uploaded,
    streamsCut: () => cut,
    slowCut: () => slowCut,
    releaseStream() {
      release()
      released = new Promise<void>((resolve) => (release = resolve))
    },
    close() {
      release()
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
