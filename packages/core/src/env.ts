/**
 * `process.env` where there is a `process` (Node, Bun, Deno's Node compatibility); an empty
 * record on workerd, where secrets come from bindings (`env(c)` in Hono) instead.
 */
export function processEnv(): Record<string, string | undefined> {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  return proc?.env ?? {}
}

/**
 * A module of the runtime's Node compatibility layer, through `process.getBuiltinModule` (Node
 * ≥ 20.16, Bun, Deno, workerd with nodejs_compat), or undefined where there is none. Never a
 * static import: core stays Web-API-only; this only picks a faster path where one exists.
 */
export function builtinModule<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  try {
    return proc?.getBuiltinModule?.(id) as T | undefined
  } catch {
    return undefined
  }
}
