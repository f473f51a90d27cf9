/** What the per-call section's orchestrator (sections/calls/measure.ts) and its measuring child (sections/calls/client.ts) share. */

/**
 * One kind of upstream call, each made two ways in the same run: through plangate's
 * `NeverminedClient` (what the gate does) and as a bare `fetch` of the same URL, headers and body,
 * its answer read as JSON and nothing checked (the floor: what any client pays Node for the call).
 */
export type CallKind = 'settle' | 'balance' | 'verify' | 'delegation' | 'permission'

export const CALL_KINDS: CallKind[] = ['settle', 'balance', 'verify', 'delegation', 'permission']

/**
 * A way of making calls. `floor`: the bare fetch. `client`: plangate's client through Node's
 * `fetch` (the default); `client, createNodeFetch`: through `@plangate/node`'s transport. `gate
 * settle`: a warm request's reserve + commit on a gate with immediate settlement, awaited until
 * settled; `gate batched`: the same on a gate whose window never closes during the run (no call),
 * so the difference is what a settle costs the gate, its bookkeeping included. `gate settle,
 * answered in process`: the immediate gate with a `fetch` that answers settle at once in this
 * process (no HTTP): plangate's own work per settle, with no transport at all.
 */
export type CallWay = 'floor' | 'client' | 'client, createNodeFetch' | 'gate settle' | 'gate settle, createNodeFetch' | 'gate settle, answered in process' | 'gate batched'

export interface CallsConfig {
  baseUrl: string
  agentKey: string
  agentId: string
  planId: string
  keys: string[]
  tokens: string[]
  /** Calls per measurement of one kind and way. */
  calls: number
  rounds: number
  /** Calls in flight at once (each on its own holder where the call has one). */
  concurrency: number
}

/** Server CPU (user + system, process.cpuUsage) per call, µs, one figure per round. */
export interface CallSeries {
  kind: CallKind | 'settle (gate)'
  way: CallWay
  cpuMicrosPerCall: number[]
}

/** µs of CPU per check of one answer of the kind (as the stand-in answered it), in process. */
export interface AnswerCheck {
  kind: CallKind
  /** zod: the answer's schema (`safeParse`); hand: the hand-checked reader the client tries first. */
  zodMicros: number[]
  handMicros: number[]
}

/** What sections/calls/client.ts prints. */
export interface CallsResult {
  series: CallSeries[]
  checks: AnswerCheck[]
}
