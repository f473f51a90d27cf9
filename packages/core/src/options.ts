import { z } from 'zod'
import { parseApiKey } from './api-key'
import { ENVIRONMENTS, type FetchLike } from './client'
import { processEnv } from './env'
import type { NeverminedBalance } from './schemas'
import type { BalanceStore } from './store/balance-store'

/** Observers of what the gate does. None is required; a hook that throws is ignored. */
export interface PlanGateHooks {
  /** A plan was ordered (bought) for a holder. */
  onOrder?(event: { planId: string; holderAddress: string; txHash: string | undefined; balance: NeverminedBalance }): void
  /** Served credits were redeemed upstream. */
  onRedeem?(event: { planId: string; holderAddress: string; amount: number; remainingBalance: number }): void
  /**
   * Something failed: a burn after its retries (`during: 'redeem'`, settle or redeem: `amount` was
   * not burned), an order, a balance read, a verify; or a route's report of what it used
   * (`during: 'usage'`: above the reservation, or a usage function that failed; `amount` is what
   * was charged).
   */
  onError?(error: Error, context: { during: 'redeem' | 'order' | 'balance' | 'verify' | 'usage'; planId: string; holderAddress: string; amount?: number }): void
}

/** Where the gate writes warnings. Messages never contain an API key. */
export interface PlanGateLogger {
  warn(message: string): void
  error(message: string): void
}

export interface AutoOrderOptions {
  /** At most this many orders per holder and plan within `windowMs`. Default 3. */
  maxOrders: number
  /** Default one hour. */
  windowMs: number
  /** After an order whose credits have not shown yet, keep reading the balance this long. Default 10 s. */
  pollTimeoutMs: number
}

/** How the gate speaks x402 (see docs/reference/options.md, the `x402` row). */
export interface X402Options {
  /** `nvm:erc4337` or `nvm:card-delegation`. Default: learned from `GET /protocol/plans/{planId}`. */
  scheme: string
  /** CAIP-2 network or card provider. Default: from the scheme and the environment, as the SDK does. */
  network: string
  /** How long a delegation the gate creates for an API-key holder lasts (s). Default one day. */
  delegationSecs: number
  /**
   * The spending limit of such a delegation, in cents. Default: the spend guard's worth,
   * `autoOrder.maxOrders` × the plan's price (1 cent with `autoOrder: false`, or 1,000 cents
   * when the plan's price is not known).
   */
  spendingLimitCents: number
}

export interface PlanGateOptions {
  /** The agent's (plan owner's) key, used to redeem credits. Default: `NVM_API_KEY`. */
  apiKey: string
  /** `'sandbox'`, `'live'` or a base URL. Default: `NVM_ENVIRONMENT`, else the key's prefix, else sandbox. */
  environment: string
  /** Default `globalThis.fetch`; the local ledger's `fetch` to run offline. */
  fetch: FetchLike
  /** Per upstream call. Default 5000. */
  timeoutMs: number
  /** The balance cache. Default `{ ttlMs: 30_000, max: 10_000 }`. */
  cache: Partial<{ ttlMs: number; max: number }>
  /** Default: in memory. */
  store: BalanceStore
  /** `false` answers 402 when credits run out; otherwise order the plan, within the spend guard. */
  autoOrder: boolean | Partial<AutoOrderOptions>
  /**
   * How served credits are burned: at once (`batchMs: 0`) or gathered per holder and plan; through
   * x402 settle (`via: 'x402'`, the default: how the live API burns) or the published redeem call
   * (`via: 'redeem'`, for an API or proxy that serves it: the live API answers it 404). With
   * `maxCredits`, a holder's batch is also burned as soon as it holds that many credits, before
   * its window ends: it bounds what a busy holder has served and not settled.
   *
   * @example
   * createPlanGate({ settle: { batchMs: 1_000, maxCredits: 50 } })
   */
  settle: Partial<{ batchMs: number; maxCredits: number; maxRetries: number; via: 'x402' | 'redeem' }>
  /** The agent's id, part of every PaymentRequired and token request. Default: `NVM_AGENT_ID`. */
  agentId: string
  x402: Partial<X402Options>
  hooks: PlanGateHooks
  logger: PlanGateLogger
  /** Where `NVM_API_KEY` and `NVM_ENVIRONMENT` are read. Default: `process.env` where it exists. */
  env: Record<string, unknown>
}

/** The options after defaults, as the gate uses them. */
export interface ResolvedGateConfig {
  apiKey: string
  baseUrl: string
  fetch: FetchLike | undefined
  timeoutMs: number
  cache: { ttlMs: number; max: number }
  store: BalanceStore | undefined
  autoOrder: false | AutoOrderOptions
  settle: { batchMs: number; maxCredits: number | undefined; maxRetries: number; via: 'x402' | 'redeem' }
  agentId: string | undefined
  x402: { scheme: string | undefined; network: string | undefined; delegationSecs: number; spendingLimitCents: number | undefined }
  hooks: PlanGateHooks
  logger: PlanGateLogger
}

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', `expected ${what}`)
const positiveInt = (max: number) => z.number().int().min(1).max(max)
const optionsSchema = z.strictObject({
  apiKey: z.string().min(1, 'expected a non-empty API key').optional(),
  environment: z.string().min(1).optional(),
  fetch: fn('a fetch function').optional(),
  timeoutMs: positiveInt(600_000).optional(),
  cache: z.strictObject({ ttlMs: z.number().int().min(0).max(86_400_000).optional(), max: positiveInt(10_000_000).optional() }).optional(),
  store: z
    .custom<BalanceStore>(
      (v) => typeof v === 'object' && v !== null && typeof (v as BalanceStore).reserve === 'function',
      'expected a BalanceStore (an object with reserve, release, commit, settle, observe, …)',
    )
    .optional(),
  autoOrder: z
    .union([
      z.literal(false),
      z.literal(true),
      z.strictObject({
        maxOrders: positiveInt(1_000).optional(),
        windowMs: positiveInt(31 * 86_400_000).optional(),
        pollTimeoutMs: z.number().int().min(0).max(600_000).optional(),
      }),
    ])
    .optional(),
  settle: z
    .strictObject({
      batchMs: z.number().int().min(0).max(3_600_000).optional(),
      maxCredits: positiveInt(1_000_000_000).optional(),
      maxRetries: z.number().int().min(0).max(20).optional(),
      via: z.enum(['x402', 'redeem'], "expected 'x402' or 'redeem'").optional(),
    })
    .optional(),
  agentId: z.string().min(1).max(200).optional(),
  x402: z
    .strictObject({
      scheme: z.enum(['nvm:erc4337', 'nvm:card-delegation'], "expected 'nvm:erc4337' or 'nvm:card-delegation'").optional(),
      network: z.string().min(1).max(100).optional(),
      delegationSecs: positiveInt(366 * 86_400).optional(),
      spendingLimitCents: positiveInt(100_000_000).optional(),
    })
    .optional(),
  hooks: z.strictObject({ onOrder: fn('a function').optional(), onRedeem: fn('a function').optional(), onError: fn('a function').optional() }).optional(),
  logger: z
    .custom<PlanGateLogger>(
      (v) => typeof v === 'object' && v !== null && typeof (v as PlanGateLogger).warn === 'function' && typeof (v as PlanGateLogger).error === 'function',
      'expected an object with warn(message) and error(message)',
    )
    .optional(),
  // process.env is not a plain object to zod, and workerd bindings hold more than strings.
  env: z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null, 'expected an object').optional(),
})

/** The option names of the object at `path` in the options (through optional and union wrappers). */
function optionNames(path: string[]): string[] {
  type Node = { shape?: Record<string, unknown>; unwrap?: () => unknown; options?: unknown[] }
  const objectOf = (schema: unknown): Node | undefined => {
    let node = schema as Node | undefined
    while (node?.unwrap !== undefined && node.shape === undefined) node = node.unwrap() as Node
    if (node?.shape === undefined && node?.options !== undefined) return node.options.map(objectOf).find((o) => o?.shape !== undefined)
    return node
  }
  let node = objectOf(optionsSchema)
  for (const key of path) node = objectOf(node?.shape?.[key])
  return Object.keys(node?.shape ?? {})
}

const consoleLogger: PlanGateLogger = {
  warn: (message) => console.warn(`[plangate] ${message}`),
  error: (message) => console.error(`[plangate] ${message}`),
}

/**
 * Checks the options (a wrong one throws a `TypeError` that names it) and fills in defaults.
 * Never echoes an option's value: one of them is a secret.
 */
export function resolveGateConfig(input: unknown): ResolvedGateConfig {
  const parsed = optionsSchema.safeParse(input ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    // An unknown key is named in full (`settle.batchms`), with the options of the object it is in.
    const unknown = issue.code === 'unrecognized_keys' ? issue.keys : []
    const path = [...issue.path.map(String), ...unknown.slice(0, 1)]
    const name = path.length > 0 ? path.join('.') : '(options)'
    const hint = issue.code === 'unrecognized_keys' ? `unknown option; the options${issue.path.length > 0 ? ` of "${issue.path.join('.')}"` : ''} are ${optionNames(issue.path.map(String)).join(', ')}` : issue.message
    throw new TypeError(`plangate: invalid option "${name}": ${hint}.`)
  }
  const options = parsed.data
  const env = stringsOf(options.env ?? processEnv())

  const apiKey = options.apiKey ?? env.NVM_API_KEY
  if (!apiKey) {
    throw new TypeError('plangate: no agent API key: pass { apiKey } to createPlanGate, or set NVM_API_KEY.')
  }
  let prefix: string | undefined
  try {
    prefix = parseApiKey(apiKey).prefix
  } catch {
    throw new TypeError(
      `plangate: the agent API key (${options.apiKey ? 'option apiKey' : 'NVM_API_KEY'}) is not a Nevermined key: expected nvm:<jwt>, sandbox:<jwt>, live:<jwt> or a JWT whose "sub" is the 0x address.`,
    )
  }

  const autoOrder = options.autoOrder === false ? false : options.autoOrder === true || options.autoOrder === undefined ? {} : options.autoOrder
  return {
    apiKey,
    baseUrl: resolveBaseUrl(options.environment ?? env.NVM_ENVIRONMENT, prefix),
    fetch: options.fetch as FetchLike | undefined,
    timeoutMs: options.timeoutMs ?? 5_000,
    cache: { ttlMs: options.cache?.ttlMs ?? 30_000, max: options.cache?.max ?? 10_000 },
    store: options.store,
    autoOrder:
      autoOrder === false
        ? false
        : { maxOrders: autoOrder.maxOrders ?? 3, windowMs: autoOrder.windowMs ?? 3_600_000, pollTimeoutMs: autoOrder.pollTimeoutMs ?? 10_000 },
    settle: { batchMs: options.settle?.batchMs ?? 0, maxCredits: options.settle?.maxCredits, maxRetries: options.settle?.maxRetries ?? 5, via: options.settle?.via ?? 'x402' },
    agentId: options.agentId ?? env.NVM_AGENT_ID,
    x402: {
      scheme: options.x402?.scheme,
      network: options.x402?.network,
      delegationSecs: options.x402?.delegationSecs ?? 86_400,
      spendingLimitCents: options.x402?.spendingLimitCents,
    },
    hooks: options.hooks ?? {},
    logger: options.logger ?? consoleLogger,
  }
}

function stringsOf(record: Record<string, unknown>): Record<string, string | undefined> {
  const pick = (name: string) => (typeof record[name] === 'string' ? (record[name] as string) : undefined)
  return { NVM_API_KEY: pick('NVM_API_KEY'), NVM_ENVIRONMENT: pick('NVM_ENVIRONMENT'), NVM_AGENT_ID: pick('NVM_AGENT_ID') || undefined }
}

function resolveBaseUrl(environment: string | undefined, keyPrefix: string | undefined): string {
  const name = environment ?? (keyPrefix === 'live' || keyPrefix === 'sandbox' ? keyPrefix : 'sandbox')
  if (name === 'sandbox' || name === 'live') return ENVIRONMENTS[name]
  let url: URL
  try {
    url = new URL(name)
  } catch {
    throw new TypeError(`plangate: invalid option "environment": expected 'sandbox', 'live' or a base URL, got ${JSON.stringify(name.slice(0, 60))}.`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError('plangate: invalid option "environment": the base URL must be http(s).')
  }
  return url.href.replace(/\/+$/, '')
}
