/**
 * `process.env` where there is a `process` (Node, Bun, Deno's Node compatibility); an empty
 * record on workerd, where secrets come from bindings (`env(c)` in Hono) instead.
 */
export function processEnv(): Record<string, string | undefined> {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  return proc?.env ?? {}
}
