/** What the peer benchmark's orchestrator (peers.ts) tells its child processes. */
import type { Framework } from '../protocol'

/** `const`: answers at once. `cpu`: spends about 1 ms of CPU first. `wait`: awaits 20 ms first, as a model call would. */
export type PeerRoute = 'const' | 'cpu' | 'wait'

/**
 * The middleware in front of the route: none; plangate (batched or immediate settlement);
 * Nevermined's SDK `paymentMiddleware` (Express only); `@x402/express` or `@x402/hono`.
 */
export type PeerKind = 'bare' | 'plangate-batched' | 'plangate-immediate' | 'nvm-sdk' | 'x402'

export interface UpstreamConfig {
  holders: number
  /** Milliseconds every call to the stand-in API waits before it is answered. */
  delayMs: number
  /** Also get an x402 access token for every holder (for the plangate-x402 and SDK rows). */
  tokens: boolean
}

export interface PeerConfig {
  framework: Framework
  peer: PeerKind
  route: PeerRoute
  /** Iterations of the CPU route's work (calibrated once by the orchestrator, so every server does the same). */
  cpuIterations: number
  batchMs: number
  holders: number
  origin: string
  baseUrl: string
  facilitatorUrl: string
  agentKey: string
  agentId: string
  planId: string
  /** plangate only: keep the balances in Redis (@plangate/redis on node-redis) instead of the memory store. Express only. */
  redis?: RedisStoreConfig
  /** plangate only: `autoOrder.maxOrders` (default the gate's, 3). */
  maxOrders?: number
  /** plangate only: the gate's `timeoutMs` (default the gate's, 5,000). */
  gateTimeoutMs?: number
  /** plangate batched only: `settle.maxCredits` (a batch goes once it holds that many credits). */
  maxCredits?: number
}

export interface RedisStoreConfig {
  url: string
  /** Each server set gets its own: no run reads another's balances. */
  prefix: string
  /** The store's `timeoutMs`. */
  timeoutMs: number
}
