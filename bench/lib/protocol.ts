/** What the orchestrator and its child processes (servers, the HTTP ledger) say to each other over IPC. */
import type { AllocationSample } from './servers/allocation-profile'

export type Framework = 'express' | 'hono'
export type Settle = 'immediate' | 'batched'
/** `sync`: the route answers at once. `async`: it awaits something first, as real routes do. */
export type Route = 'sync' | 'async'

/** Where a guarded server's gate sends its upstream calls. */
export type Upstream =
  | { kind: 'in-process' }
  /** The local ledger in its own process, served over HTTP on loopback. */
  | { kind: 'http'; baseUrl: string; agentKey: string; planId: string; keys: string[] }

export interface ServerConfig {
  framework: Framework
  /** false: the same route without `requirePlan`. */
  guarded: boolean
  /** Unguarded, but behind a middleware that only awaits (the cost of any async middleware). */
  noop?: boolean
  /** Unguarded by plangate, but behind the floor (lib/servers/floor.ts): the least any plan middleware does. */
  floor?: boolean
  /** requirePlan's `headers` option (X-Credits-Remaining and X-Plan-Id on success). Default true. */
  headers?: boolean
  upstream: Upstream
  settle: Settle
  batchMs: number
  subscribers: number
  route: Route
  /** Over HTTP: how the gate reaches the ledger, `globalThis.fetch` (default) or `createNodeFetch()` (@plangate/node). */
  transport?: 'fetch' | 'node'
  /** The gate's cache.ttlMs, when not its default (the instruction counts run slowly under valgrind). */
  cacheTtlMs?: number
}

export interface LedgerConfig {
  subscribers: number
}

/** The first message of every child: it listens on 127.0.0.1:`port`. */
export interface Ready {
  type: 'ready'
  port: number
  /** Subscriber keys the load generator rotates through. */
  keys: string[]
  /** For the HTTP ledger: what servers need to use it. */
  baseUrl?: string
  agentKey?: string
  planId?: string
  /** The peer benchmark's stand-in API (lib/peers/upstream.ts): each holder's x402 token, and where things are. */
  tokens?: string[]
  origin?: string
  facilitatorUrl?: string
  agentId?: string
}

/** Orchestrator → child. */
export type Command = { id: number; type: 'counters' | 'quiesce' | 'cpu' | 'close' | 'allocation-start' | 'allocation-stop' | 'heap' | 'redis-calls' | 'profile-start' | 'profile-stop' | 'pending-start' | 'pending-stop' }

/** Child → orchestrator, answering a command. */
export interface Reply {
  id: number
  /** Upstream calls the ledger has answered so far (the in-process ledger, or the HTTP ledger). */
  counters?: Record<string, number> & { order: number; balance: number; redeem: number }
  /** quiesce: credits still reserved or awaiting redemption when it gave up waiting (0 = idle). */
  outstanding?: number
  /** cpu: the process's CPU time so far, in microseconds (process.cpuUsage()). */
  cpu?: { user: number; system: number }
  /** allocation-stop: bytes allocated since allocation-start, in all and by function. */
  allocation?: AllocationSample
  /** heap: bytes of heap in use after a full garbage collection. */
  heap?: number
  /** redis-calls: commands a peer server's Redis client has sent so far, by script (bench/lib/redis/store.ts). */
  redisCalls?: Record<string, number>
  /** profile-stop: the V8 CPU profile taken since profile-start (a .cpuprofile's JSON). */
  profile?: string
  /** pending-stop: credits served and not yet settled, sampled since pending-start (bench/lib/peers/pending.ts). */
  pending?: { mean: number; max: number; samples: number }
}
