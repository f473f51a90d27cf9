/**
 * The work a route does before it answers, the same in every server of a run. The CPU route's work
 * is a fixed number of iterations (calibrated once, in the orchestrator, to about 1 ms), not a
 * spin on the clock: on a loaded machine a clock spin would also count the time the process was
 * not running, and differ from server to server.
 */
import type { PeerRoute } from './protocol'

export const BODY = { answer: 'ok' }
export const WAIT_MS = 20

/**
 * Deterministic integer work the JIT cannot drop (its result is returned). `x` is an int32 from
 * the start (`| 0`): begun as the double 0x9e3779b9, the loop ran about three times slower
 * wherever V8 inlined it into a caller (Hono's `fetch`, for a handler that returns at once), which
 * made the bare Hono server slower than the guarded ones on this route.
 */
export function spin(iterations: number): number {
  let x = 0x9e3779b9 | 0
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
  }
  return x >>> 0
}

/** Iterations of `spin` that take about `targetMs` on this machine now (median of a few tries). */
export function calibrate(targetMs = 1): number {
  const probe = 200_000
  spin(probe) // warm the JIT
  const tries: number[] = []
  for (let i = 0; i < 9; i++) {
    const started = performance.now()
    spin(probe)
    tries.push(performance.now() - started)
  }
  tries.sort((a, b) => a - b)
  return Math.max(1, Math.round((probe * targetMs) / tries[4]!))
}

/** What the route does before answering: nothing, `iterations` of CPU work, or a 20 ms await. */
export function routeWork(route: PeerRoute, iterations: number): (() => Promise<number>) | (() => number) {
  if (route === 'wait') return () => new Promise<number>((resolve) => setTimeout(() => resolve(0), WAIT_MS))
  if (route === 'cpu') return () => spin(iterations)
  return () => 0
}
