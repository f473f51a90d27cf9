import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import type { LocalLedger } from '../types'

/** A ledger listening over HTTP. */
export interface Listening {
  /** The port it listens on (the one the system chose for `--port 0`). */
  port: number
  /** Stops listening and drops open connections; resolves when the server is closed. */
  close(): Promise<void>
}

/**
 * Serves `ledger.fetch` on `host:port` with `@hono/node-server`. Rejects when the server cannot
 * listen (the port is taken, the host is not an address of this machine).
 */
export function listen(ledger: LocalLedger, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: ledger.fetch, port, hostname: host }, (info: AddressInfo) => {
      server.off('error', reject)
      resolve({ port: info.port, close: () => close(server) })
    }) as Server
    server.once('error', reject)
  })
}

function close(server: Server): Promise<void> {
  // Keep-alive connections would hold close() open until their clients hang up.
  server.closeAllConnections()
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
}

/** The host as it goes in a URL a client on this machine can use: a wildcard means loopback. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}
