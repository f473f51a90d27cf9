import type { IncomingMessage, Server } from 'node:http'

/**
 * The routes every probe upstream has, and what each is worth: the proxy's routes in
 * probes.test.ts price them so. `catchall` answers everything else, any method (app.use,
 * app.all('*'), a not-found handler answering 200): an upstream that ignores the method.
 */
export const HANDLER_PRICES = { health: 0, paid: 50, 'items-post': 1, 'items-delete': 10, catchall: 2 } as const
export type Handler = keyof typeof HANDLER_PRICES

/** What an upstream saw of one request, as it arrived on the wire. */
export interface Seen {
  /** The `X-Probe` header: which probe sent it. */
  probe: string
  method: string
  /** The request target as received: path and query, not decoded. */
  target: string
  /** Names as spelled on the wire, with their values. */
  headers: Array<[name: string, value: string]>
  /** WSGI only: the environ's HTTP_* variables, where `-` and `_` in a name are one. */
  environ?: Record<string, string>
  /** The handler that answered (undefined: none did). */
  handler: Handler | undefined
  body: string
}

/** A real framework listening on loopback, recording what reaches it. */
export interface ProbeUpstream {
  readonly name: string
  readonly url: string
  /** What reached the upstream for one probe (none, or one request). */
  seen(probe: string): Promise<Seen[]>
  close(): Promise<void>
}

/** Every answer names its handler, and carries CORS headers a preflight would. */
export const answerHeaders = (handler: Handler): Record<string, string> => ({
  'X-Handler': handler,
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
})

/** The headers an upstream honouring method override reads, on POST only (as Express's method-override). */
export function overriddenMethod(method: string, header: (name: string) => string | undefined): string {
  if (method !== 'POST') return method
  const named = header('x-http-method-override') ?? header('x-http-method') ?? header('x-method-override')
  return named ? named.trim().toUpperCase() : method
}

/**
 * Records what reaches a node:http server before the framework sees it; the framework's handlers
 * then say which of them ran (`ran`).
 */
export function nodeRecorder() {
  const records: Seen[] = []
  const byRequest = new WeakMap<IncomingMessage, Seen>()
  return {
    attach(server: Server): void {
      server.prependListener('request', (req: IncomingMessage) => {
        const headers: Array<[string, string]> = []
        for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!])
        const probe = headers.find(([name]) => name.toLowerCase() === 'x-probe')?.[1] ?? ''
        const seen: Seen = { probe, method: req.method ?? '', target: req.url ?? '', headers, handler: undefined, body: '' }
        records.push(seen)
        byRequest.set(req, seen)
      })
    },
    ran(req: IncomingMessage, handler: Handler, body: string | undefined): void {
      const seen = byRequest.get(req)
      if (!seen) return
      seen.handler = handler
      seen.body = body ?? ''
    },
    seen: async (probe: string) => records.filter((seen) => seen.probe === probe),
  }
}

export async function readBody(req: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of req) text += String(chunk)
  return text
}
