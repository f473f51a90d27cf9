/**
 * What the shared adapter cases (cases.ts) need from an adapter: a real app on a real HTTP server
 * over loopback, with the same routes behind `requirePlan`, and the few ways adapters differ.
 */
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

/** What the routes behind `requirePlan` saw, and the switch that lets `/slow` answer. */
export interface Probe {
  /** Route handlers entered (any route). */
  started: number
  /** `/slow` handlers that saw their client go. */
  disconnected: number
  /** `/slow` handlers that answered. */
  finished: number
  /** Why `/held` saw its balance's signal abort, and what was used then: "AbortError after 3". */
  signals: string[]
  /** Resolves once the test calls `go()`: `/slow` answers then. */
  released: Promise<void>
  go(): void
}

export function probe(): Probe {
  let go = () => {}
  const released = new Promise<void>((resolve) => (go = resolve))
  return { started: 0, disconnected: 0, finished: 0, signals: [], released, go: () => go() }
}

export interface RunningApp {
  url: string
  probe: Probe
  close(): Promise<void>
}

/**
 * One adapter, set up one way. Its app answers, behind `requirePlan(planId, options)`:
 * `GET /ok` 200 with the balance as JSON; `/bad` 400; `/fail` 500; `/throw` throws; `/slow` waits
 * until the server sees the client go, then until `probe.go()`, then answers 200; `/use` and
 * `/stream` and `/held` report usage (usage-routes.ts).
 */
export interface Driver {
  name: string
  start(planId: unknown, options?: Record<string, unknown>): Promise<RunningApp>
  /** Creates the middleware (or registers the plugin) as a user would: rejects with what that throws. */
  create(planId: unknown, options?: Record<string, unknown>): Promise<void>
  /** A query parameter of the request object the adapter hands to `cost` and `credential`. */
  query(req: never, name: string): string | undefined
  /** A request header, likewise. */
  header(req: never, name: string): string | undefined
  /** A `usage` (given the framework's own objects after the route) reading the route's `x-used` response header. */
  usageFromHeader(...done: never[]): number
  /** The credits go back as the client leaves, before the route is done (Hono: once it is). */
  releasesOnDisconnect: boolean
  /** A request whose client left while its credits were being reserved never reaches the route. */
  skipsRouteOfGoneClient: boolean
  /** Without a gate, one is made from the environment when the middleware is created, or on the first request. */
  gateFromEnv: 'creation' | 'request'
}

/** Listens on an ephemeral loopback port. */
export async function listenOn(server: Server, probe: Probe): Promise<RunningApp> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, probe, close: () => closeServer(server) }
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}
