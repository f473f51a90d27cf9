import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import type { LocalLedger } from '@plangate/core/local'

type FetchHandler = (request: Request) => Response | Promise<Response>

/** Serve a web-standard fetch handler (the local ledger, a Hono app) over real HTTP on loopback. */
export async function serveFetch(fetch: FetchHandler): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server)) as Server
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => closeServer(server) }
}

/** Listen on an ephemeral loopback port (an Express app, a node http handler). */
export async function listen(app: { listen(port: number, host: string): Server }): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => closeServer(server) }
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections?.()
  return new Promise((resolve) => server.close(() => resolve()))
}

/** The ledger over real HTTP; `stop()` closes the listening socket so connections are refused. */
export async function serveLedger(ledger: LocalLedger) {
  let server: Server | undefined
  let port = 0
  const start = () =>
    new Promise<void>((resolve) => {
      const s = serve({ fetch: ledger.fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        port = info.port
        resolve()
      }) as Server
      server = s
    })
  await start()
  /** Stops listening at once; answers already on their way still complete. */
  const stop = (): Promise<void> => {
    const s = server!
    server = undefined
    return new Promise((resolve) => s.close(() => resolve()))
  }
  // Plain functions, not methods: tests hand `close` to afterAll on its own.
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    stop,
    start,
    async close() {
      if (!server) return
      server.closeAllConnections()
      await stop()
    },
  }
}
