import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type PlanGate } from '@plangate/core'
import { normalizePlanId } from '@plangate/core/adapter'
import { nodeListener } from './node-listener'
import type { ProxyOptions } from './options'
import { createProxy } from './proxy'

/** The options of {@link startProxy}: those of `createProxy`, and where to listen. */
export interface StartProxyOptions extends ProxyOptions {
  /** Default 3000; 0 picks a free port. */
  port?: number
  /** Default `127.0.0.1`: only this machine. `0.0.0.0` (or `::`) to take requests from elsewhere, as in a container. */
  host?: string
  /** On `close()`, how long requests in flight (a stream, an upload) may take before their connections are cut. Default 10 000 ms. */
  shutdownGraceMs?: number
}

/** A proxy listening on a port. */
export interface RunningProxy {
  /** `http://127.0.0.1:3000`. */
  readonly url: string
  readonly port: number
  readonly server: Server
  readonly gate: PlanGate
  /**
   * Graceful shutdown: stop taking connections, let requests in flight finish (up to
   * `shutdownGraceMs`), then redeem what the gate has batched (`gate.close()`). Idempotent.
   */
  close(): Promise<void>
}

/**
 * Starts the proxy on `@hono/node-server` and resolves once it listens (rejects if it cannot,
 * e.g. the port is taken).
 *
 * @example
 * const proxy = await startProxy({ plan: 7, upstream: 'http://127.0.0.1:8080', port: 3000 })
 * process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)))
 */
export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const { port = 3000, host = '127.0.0.1', shutdownGraceMs = 10_000, ...proxyOptions } = options
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) throw new TypeError(`plangate-proxy: invalid option "port": expected 0 to 65535, got ${String(port)}.`)
  if (typeof host !== 'string' || host === '') throw new TypeError('plangate-proxy: invalid option "host": expected an address such as 127.0.0.1.')
  if (!Number.isSafeInteger(shutdownGraceMs) || shutdownGraceMs < 0) throw new TypeError('plangate-proxy: invalid option "shutdownGraceMs": expected milliseconds, 0 or more.')

  const proxy = createProxy(proxyOptions)
  const server = createServer(nodeListener(proxy.fetch, normalizePlanId(proxyOptions.plan)))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address

  let closing: Promise<void> | undefined
  return {
    url: `http://${shown}:${address.port}`,
    port: address.port,
    server,
    gate: proxy.gate,
    close: () => (closing ??= shutDown(server, proxy.close, shutdownGraceMs)),
  }
}

async function shutDown(server: Server, closeGate: () => Promise<void>, graceMs: number): Promise<void> {
  // Requests still streaming after the grace period lose their connection (and are not charged
  // if they had not been answered yet); idle keep-alive connections close at once.
  const cut = setTimeout(() => server.closeAllConnections(), graceMs)
  cut.unref()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  clearTimeout(cut)
  await closeGate()
}
