import { parseArgs } from 'node:util'
import { UsageError } from './usage-error'

/** What the command line says; every field is optional, flags override the config file. */
export interface Flags {
  plan?: string
  upstream?: string
  port?: number
  host?: string
  config?: string
  environment?: string
  /** `--route "POST /v1/chat=5"`, in the order given. */
  routes?: Record<string, number>
  defaultCost?: number
  timeoutMs?: number
  batchMs?: number
  autoOrder?: false
  help?: boolean
  version?: boolean
}

const OPTIONS = {
  plan: { type: 'string' },
  upstream: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  config: { type: 'string' },
  environment: { type: 'string' },
  local: { type: 'boolean' },
  route: { type: 'string', multiple: true },
  'default-cost': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'batch-ms': { type: 'string' },
  'no-auto-order': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const

export const FLAG_NAMES = Object.keys(OPTIONS).map((name) => `--${name}`)

/**
 * Reads the flags; anything wrong (an unknown flag, a missing or malformed value) is a
 * {@link UsageError} saying which flag and what it takes.
 *
 * @example parseFlags(['--plan', '7', '--upstream', 'http://127.0.0.1:8080']).plan // '7'
 */
export function parseFlags(argv: string[]): Flags {
  // `pnpm proxy -- --local` passes the separator on.
  const args = argv[0] === '--' ? argv.slice(1) : argv
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    ;({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }))
  } catch (error) {
    throw new UsageError(explain(error))
  }
  const flags: Flags = {}
  const text = (name: keyof typeof OPTIONS) => values[name] as string | undefined
  if (text('plan') !== undefined) flags.plan = nonEmpty('plan', text('plan')!)
  if (text('upstream') !== undefined) flags.upstream = nonEmpty('upstream', text('upstream')!)
  if (text('host') !== undefined) flags.host = nonEmpty('host', text('host')!)
  if (text('config') !== undefined) flags.config = nonEmpty('config', text('config')!)
  if (text('environment') !== undefined) flags.environment = nonEmpty('environment', text('environment')!)
  if (values.local) {
    if (flags.environment !== undefined && flags.environment !== 'local') throw new UsageError('--local and --environment contradict each other: keep one.')
    flags.environment = 'local'
  }
  if (text('port') !== undefined) flags.port = integer('port', text('port')!, 0, 65_535)
  if (text('default-cost') !== undefined) flags.defaultCost = integer('default-cost', text('default-cost')!, 0, Number.MAX_SAFE_INTEGER)
  if (text('timeout-ms') !== undefined) flags.timeoutMs = integer('timeout-ms', text('timeout-ms')!, 1, 3_600_000)
  if (text('batch-ms') !== undefined) flags.batchMs = integer('batch-ms', text('batch-ms')!, 0, 3_600_000)
  if (values['no-auto-order']) flags.autoOrder = false
  if (values.route) flags.routes = routeFlags(values.route as string[])
  if (values.help) flags.help = true
  if (values.version) flags.version = true
  return flags
}

function routeFlags(values: string[]): Record<string, number> {
  const routes: Record<string, number> = {}
  for (const value of values) {
    const equals = value.lastIndexOf('=')
    const cost = equals === -1 ? '' : value.slice(equals + 1).trim()
    if (equals === -1 || !/^\d+$/.test(cost)) {
      throw new UsageError(`--route ${JSON.stringify(value)}: expected "METHOD /path=COST", e.g. --route "POST /v1/chat=5" (COST 0 = free, not gated).`)
    }
    routes[value.slice(0, equals).trim()] = Number(cost)
  }
  return routes
}

function nonEmpty(name: string, value: string): string {
  if (value.trim() === '') throw new UsageError(`--${name} needs a value.`)
  return value.trim()
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}.`)
  return n
}

/** node:util's parse errors, as a sentence about this command's flags. */
function explain(error: unknown): string {
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message : String(error)
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(message)?.[1] ?? 'given'
    return `unknown flag ${flag}; the flags are ${FLAG_NAMES.join(', ')}.`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /'(--[a-z-]+)/.exec(message)?.[1]
    return flag ? `${flag} ${message.includes('does not take') ? 'takes no value' : 'needs a value'}.` : message
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']+)'/.exec(message)?.[1] ?? ''
    return `unexpected argument ${JSON.stringify(arg)}: every value follows its flag, as in --plan 7.`
  }
  return message
}
