import { parseArgs } from 'node:util'
import { UsageError } from './usage-error'

/** What `plangate-ledger` runs with: the flags, with their defaults filled in. */
export interface Flags {
  /** Where to listen; 0 picks any free port. Default 8787. */
  port: number
  /** Default `127.0.0.1`: the ledger has no authentication worth the name, keep it on loopback. */
  host: string
  /** Credits one order of the seeded plan adds. Default 10. */
  credits: number
  /** What one order costs, in dollars. Default 10. */
  price: number
  /** The subscriber's wallet. Default 100: ten orders at the default price. */
  funds: number
  /** Serve `POST /protocol/plans/redeem` (for a gate with `settle: { via: 'redeem' }`). */
  serveRedeem: boolean
  /** Print the seed as one JSON line instead of the text for people. */
  json: boolean
  help: boolean
  version: boolean
}

export const DEFAULTS = { port: 8787, host: '127.0.0.1', credits: 10, price: 10, funds: 100 } as const

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  credits: { type: 'string' },
  price: { type: 'string' },
  funds: { type: 'string' },
  'serve-redeem': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const

/** Every flag the command takes, as typed: `--port`, … */
export const FLAG_NAMES = Object.keys(OPTIONS).map((name) => `--${name}`)

/**
 * Reads the command line; anything wrong (an unknown flag, a missing or malformed value) is a
 * {@link UsageError} naming the flag and what it takes.
 *
 * @example parseFlags(['--port', '0', '--json']).port // 0
 */
export function parseFlags(argv: string[]): Flags {
  // `pnpm ledger -- --port 0` passes the separator on.
  const args = argv[0] === '--' ? argv.slice(1) : argv
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }))
  } catch (error) {
    throw new UsageError(explain(error))
  }
  const text = (name: 'port' | 'host' | 'credits' | 'price' | 'funds') => values[name] as string | undefined
  return {
    port: integer('port', text('port'), DEFAULTS.port, 0, 65535, 'a port number from 0 to 65535 (0 picks a free one), e.g. --port 8787'),
    host: host(text('host')),
    credits: integer('credits', text('credits'), DEFAULTS.credits, 1, Number.MAX_SAFE_INTEGER, 'a whole number of credits of at least 1, e.g. --credits 10'),
    price: money('price', text('price'), DEFAULTS.price, 'a price in dollars, 0 or more, e.g. --price 10 or --price 0.5'),
    funds: money('funds', text('funds'), DEFAULTS.funds, "the subscriber's wallet in dollars, 0 or more, e.g. --funds 100"),
    serveRedeem: values['serve-redeem'] === true,
    json: values.json === true,
    help: values.help === true,
    version: values.version === true,
  }
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number, takes: string): number {
  if (raw === undefined) return fallback
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) throw bad(flag, raw, takes)
  return value
}

function money(flag: string, raw: string | undefined, fallback: number, takes: string): number {
  if (raw === undefined) return fallback
  const value = /^[0-9]+(\.[0-9]+)?$/.test(raw) ? Number(raw) : NaN
  if (!Number.isFinite(value)) throw bad(flag, raw, takes)
  return value
}

function host(raw: string | undefined): string {
  if (raw === undefined) return DEFAULTS.host
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(raw)) throw bad('host', raw, 'a host name or IP address to listen on, e.g. --host 127.0.0.1 or --host 0.0.0.0')
  return raw
}

function bad(flag: string, raw: string, takes: string): UsageError {
  const shown = raw.length > 40 ? `a ${raw.length}-character value` : JSON.stringify(raw)
  return new UsageError(`--${flag} takes ${takes}; got ${shown}.`)
}

/** node:util's messages, reworded to name the flag and say what to do. */
function explain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: string }).code
  const flag = /'(-{1,2}[^'\s]+)/.exec(message)?.[1]
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown flag ${flag ?? ''}; the flags are ${FLAG_NAMES.join(', ')}.`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /does not take an argument/.test(message)) {
    return `${flag ?? 'a switch'} takes no value; write ${flag ?? 'it'} alone.`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return `${flag ?? 'a flag'} needs a value, e.g. ${flag ?? '--port'} 8787.`
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument ${JSON.stringify(/'([^']*)'/.exec(message)?.[1] ?? '')}: every option is a flag, e.g. --port 8787.`
  return message
}
