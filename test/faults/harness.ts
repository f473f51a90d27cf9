/**
 * The fault suite's world, over real HTTP on loopback: the local ledger served by
 * @hono/node-server (stoppable, so a refused connection is a real one), a gate with NO custom
 * fetch (so every upstream call crosses the network), and an agent on one of the adapters
 * (agents.ts) in front of it.
 * Everything the gate says — logger lines, hook calls, errors handed to the adapters, console —
 * is recorded so the secrets checks can scan it.
 */
import { format } from 'node:util'
import { createPlanGate, type PlanGate, type PlanGateOptions } from '@plangate/core'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { AGENTS, type Adapter } from './agents'

export { ADAPTERS, type Adapter } from './agents'

/** The documented denial codes (docs/reference/errors.md). */
export const CODES = [
  'CREDENTIAL_MISSING',
  'CREDENTIAL_INVALID',
  'PAYMENT_REQUIRED',
  'PLAN_NOT_FOUND',
  'UPSTREAM_UNAVAILABLE',
  'STORE_UNAVAILABLE',
  'COST_INVALID',
  'GATE_MISCONFIGURED',
  'INTERNAL_ERROR',
]

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Everything the gate and the adapters said, for the secrets checks. */
export class Recorder {
  readonly lines: string[] = []
  readonly errors: unknown[] = []
  readonly hookArgs: unknown[] = []
  readonly responses: string[] = []
  readonly onError: Array<{ during: string; amount?: number }> = []

  readonly logger = {
    warn: (m: string) => void this.lines.push(`warn ${m}`),
    error: (m: string) => void this.lines.push(`error ${m}`),
  }

  readonly hooks: NonNullable<PlanGateOptions['hooks']> = {
    onOrder: (event) => void this.hookArgs.push(event),
    onRedeem: (event) => void this.hookArgs.push(event),
    onError: (error, context) => {
      this.errors.push(error)
      this.hookArgs.push(context)
      this.onError.push(context)
    },
  }

  /** Amounts the gate reported as not redeemed. */
  get unredeemed(): number {
    return this.onError.filter((c) => c.during === 'redeem').reduce((sum, c) => sum + (c.amount ?? 0), 0)
  }

  /** Wraps a gate so every error it hands to an adapter is recorded too. */
  gate(gate: PlanGate): PlanGate {
    return {
      get store() {
        return gate.store
      },
      close: () => gate.close(),
      reserve: (...args) =>
        gate.reserve(...args).catch((error: unknown) => {
          this.errors.push(error)
          throw error
        }),
    }
  }

  async record(response: Response): Promise<{ status: number; text: string; headers: Headers; ms: number }> {
    const text = await response.text()
    this.responses.push(`${response.status} ${JSON.stringify([...response.headers])} ${text}`)
    return { status: response.status, text, headers: response.headers, ms: 0 }
  }

  /** Every string the gate, the adapters and the responses produced. */
  everything(extra: string[] = []): string {
    return [...this.lines, ...this.errors.map(describeError), ...this.hookArgs.map((a) => JSON.stringify(a)), ...this.responses, ...extra].join('\n')
  }
}

/** An error's name, message, stack and every `cause` below it, as one string. */
export function describeError(error: unknown, depth = 0): string {
  if (depth > 8) return ''
  if (error instanceof Error) {
    const own = `${error.name}: ${error.message}\n${error.stack ?? ''}\n${safeJson(error)}`
    return error.cause === undefined ? own : `${own}\ncaused by ${describeError(error.cause, depth + 1)}`
  }
  return safeJson(error)
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/** A key and the parts of it that are secret on their own: the payload and the signature. */
export function secretParts(apiKey: string): string[] {
  const [, payload, signature] = apiKey.split('.')
  return [apiKey, apiKey.slice(apiKey.indexOf(':') + 1), payload!, signature!]
}

import { serveLedger } from '../helpers/serve'
export { serveLedger }

export interface WorldOptions {
  credits?: number
  price?: number
  funds?: number
  /** Order the plan once, out of band, before the test (the holder starts with credits). */
  subscribed?: boolean
  gate?: Partial<PlanGateOptions>
}

export interface World {
  adapter: Adapter
  ledger: LocalLedger
  owner: LocalAccount
  alice: LocalAccount
  planId: string
  gate: PlanGate
  upstream: Awaited<ReturnType<typeof serveLedger>>
  recorder: Recorder
  seen: { started: number; finished: number }
  url: string
  /** Orders charged before the test began (out of band). */
  ordersBefore: number
  /** Calls the agent; resolves with status, text, headers and how long it took. */
  call(query?: string, init?: { key?: string | null; signal?: AbortSignal }): Promise<{ status: number; text: string; headers: Headers; ms: number }>
  close(): Promise<void>
}

export async function startWorld(adapter: Adapter, options: WorldOptions = {}): Promise<World> {
  // The redeem call is served so that rows can test it (`settle: { via: 'redeem' }`) beside x402 settle.
  const ledger = createLocalLedger({ serveRedeem: true })
  const owner = ledger.createAccount({ funds: 0 })
  const alice = ledger.createAccount({ funds: options.funds ?? 100 })
  const planId = ledger.createPlan({ credits: options.credits ?? 3, price: options.price ?? 10, owner: owner.address })
  const upstream = await serveLedger(ledger)
  if (options.subscribed) {
    const res = await fetch(`${upstream.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
    if (res.status !== 200) throw new Error(`out-of-band order answered ${res.status}`)
  }
  const recorder = new Recorder()
  // No fetch option: the gate reaches the ledger over the network, as it would reach Nevermined.
  const gate = createPlanGate({
    apiKey: owner.apiKey,
    environment: upstream.baseUrl,
    logger: recorder.logger,
    hooks: recorder.hooks,
    ...options.gate,
  })
  const seen = { started: 0, finished: 0 }
  const server = await AGENTS[adapter](recorder.gate(gate), planId, seen)
  return {
    adapter,
    ledger,
    owner,
    alice,
    planId,
    gate,
    upstream,
    recorder,
    seen,
    url: server.url,
    ordersBefore: ledger.orders(planId),
    async call(query = '', init = {}) {
      const key = init.key === undefined ? alice.apiKey : init.key
      const started = performance.now()
      const response = await fetch(`${server.url}/paid${query}`, {
        method: 'POST',
        headers: key === null ? {} : { Authorization: `Bearer ${key}` },
        signal: init.signal,
      })
      const recorded = await recorder.record(response)
      return { ...recorded, ms: performance.now() - started }
    },
    async close() {
      await server.close()
      await gate.close()
      await upstream.close()
    },
  }
}

/** Everything written to the console while a test runs (and nothing printed). */
export function captureConsole(): { lines: string[]; restore(): void } {
  const lines: string[] = []
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const
  const originals = methods.map((m) => console[m])
  for (const m of methods) console[m] = (...args: unknown[]) => void lines.push(format(...args))
  return {
    lines,
    restore: () => methods.forEach((m, i) => (console[m] = originals[i]!)),
  }
}

/** Asserts none of the keys, nor their payload or signature segments, appears in `text`. */
export function expectNoSecrets(text: string, apiKeys: string[]): void {
  for (const key of apiKeys) {
    for (const part of secretParts(key)) {
      if (text.includes(part)) throw new Error(`a secret (${part === key ? 'an API key' : 'part of an API key'}) leaked:\n${excerpt(text, part)}`)
    }
  }
}

function excerpt(text: string, part: string): string {
  const at = text.indexOf(part)
  return text.slice(Math.max(0, at - 200), at).replaceAll(part, '<SECRET>') + '<SECRET>'
}

/** A denial as the docs promise it: problem+json with exactly the documented fields and a known code. */
export function expectProblem(res: { status: number; text: string; headers: Headers }, code: string, planId: string): void {
  if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '')) {
    throw new Error(`expected problem+json, got ${res.headers.get('content-type')}: ${res.text.slice(0, 200)}`)
  }
  const body = JSON.parse(res.text) as Record<string, unknown>
  const keys = Object.keys(body).sort().join()
  if (keys !== 'code,detail,planId,status,title,type') throw new Error(`unexpected problem fields ${keys}`)
  if (body.code !== code || body.status !== res.status || body.planId !== planId || !CODES.includes(code)) {
    throw new Error(`expected ${code} (${res.status}) for plan ${planId}, got ${res.text}`)
  }
  if (/\bat .*:\d+:\d+/.test(res.text)) throw new Error('a stack frame in a problem body')
}
