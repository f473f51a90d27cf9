import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { describeIssue, proxyFields } from '../options'
import { UsageError } from './usage-error'
import type { RouteCost } from '../routes'

/**
 * The config file, `--config plangate.json`:
 *
 * ```json
 * {
 *   "plan": "7",
 *   "upstream": "http://127.0.0.1:8080",
 *   "routes": { "POST /v1/chat": 5, "GET /health": 0 },
 *   "defaultCost": 1,
 *   "gate": { "settle": { "batchMs": 500 }, "autoOrder": { "maxOrders": 3 } }
 * }
 * ```
 */
export interface ConfigFile {
  plan?: string | number
  upstream?: string
  port?: number
  host?: string
  environment?: string
  routes?: Record<string, RouteCost>
  defaultCost?: number
  timeoutMs?: number
  upstreamHeaders?: Record<string, string | false>
  creditHeaders?: boolean
  methodOverride?: boolean
  shutdownGraceMs?: number
  /** createPlanGate's options that JSON can say (checked by createPlanGate itself). */
  gate?: Record<string, unknown>
}

// A key in a file is a secret at rest, and functions do not fit in JSON.
const NOT_IN_FILE: Record<string, string> = {
  apiKey: 'the agent key is read from NVM_API_KEY, never from a file',
  environment: 'put "environment" at the top level of the file',
  fetch: 'not available from a config file',
  store: 'not available from a config file (use the library, createProxy, for a shared store)',
  hooks: 'not available from a config file',
  logger: 'not available from a config file',
  env: 'not available from a config file',
}

const schema = z.strictObject({
  $schema: z.string().optional(),
  plan: z.union([z.string().min(1), z.number()]).optional(),
  upstream: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65_535).optional(),
  host: z.string().min(1).optional(),
  environment: z.string().min(1, "expected 'sandbox', 'live', 'local' or a base URL").optional(),
  routes: proxyFields.routes.optional(),
  defaultCost: proxyFields.defaultCost.optional(),
  timeoutMs: proxyFields.timeoutMs.optional(),
  upstreamHeaders: proxyFields.upstreamHeaders.optional(),
  creditHeaders: proxyFields.creditHeaders.optional(),
  methodOverride: proxyFields.methodOverride.optional(),
  shutdownGraceMs: z.number().int().min(0).max(3_600_000).optional(),
  gate: z.record(z.string(), z.unknown()).optional(),
})

/** Reads and checks the file; anything wrong is a {@link UsageError} naming the file and the key. */
export function readConfigFile(path: string): ConfigFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as { code?: unknown }).code
    throw new UsageError(`cannot read the config file ${path}${typeof code === 'string' ? ` (${code})` : ''}: check the path given to --config.`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON: ${(error as Error).message}.`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError(`${path} must hold a JSON object, such as { "plan": "7", "upstream": "http://127.0.0.1:8080" }.`)
  const parsed = schema.safeParse(json)
  if (!parsed.success) throw new UsageError(`${path}: ${describeIssue(parsed.error, Object.keys(schema.shape).filter((k) => k !== '$schema'), 'key')}.`)
  const config = parsed.data
  for (const name of Object.keys(config.gate ?? {})) {
    const why = NOT_IN_FILE[name]
    if (why) throw new UsageError(`${path}: key "gate.${name}": ${why}.`)
  }
  return config
}
