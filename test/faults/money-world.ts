/**
 * A world for the money properties: many fast-check runs need many worlds, so the ledger answers
 * in process (`ledger.fetch`), and on Hono requests go through the adapter with `app.request` —
 * the whole middleware path, without sockets. The other adapters (Koa, Fastify, Express) have no
 * such door: their agent (agents.ts) is served on loopback and called over real HTTP.
 */
import http from 'node:http'
import { Hono } from 'hono'
import { createPlanGate, type PlanGateOptions } from '@plangate/core'
import { createLocalLedger, type LedgerEndpoint, type LedgerFault } from '@plangate/core/local'
import { requirePlan, type PlanVariables } from '@plangate/hono'
import { AGENTS, type Adapter } from './agents'
import { Recorder, sleep } from './harness'

export interface PaidRequest {
  cost: number
  /** What the route answers once admitted. */
  status: number
  /** How long the route works before answering. */
  waitMs: number
}

export interface Outcome {
  status: number
  /** Whether the route ran (admitted), as opposed to a denial by the middleware. */
  admitted: boolean
  cost: number
  code?: string
}

export interface MoneyWorldOptions {
  /** Credits per order of the plan. */
  credits: number
  /** Orders placed out of band before the test, and credits then redeemed out of band: initial = orders × credits − used. */
  initialOrders?: number
  used?: number
  gate?: Partial<PlanGateOptions>
  /** Default 'hono', in process. */
  adapter?: Adapter
}

/** Outcomes read from an answer: the route's answers carry the balance, denials a problem code. */
function outcome(status: number, text: string, req: PaidRequest): Outcome {
  const body = JSON.parse(text) as { admitted?: boolean; balance?: unknown; code?: string }
  return { status, admitted: body.admitted === true || body.balance !== undefined, cost: req.cost, code: body.code }
}

/** POSTs over `agent`'s sockets (a bounded pool: a thousand requests at once do not flood the listen backlog). */
function post(url: string, headers: Record<string, string>, agent: http.Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const open = new Set<() => Promise<void>>()

/** Stops every agent server the worlds started (for afterEach). */
export async function closeWorlds(): Promise<void> {
  const closing = [...open].map((close) => close())
  open.clear()
  await Promise.all(closing)
}

/** How the gate burns: x402 settle (the default, as on the live API) or the published redeem call. */
export type Via = 'x402' | 'redeem'
export const VIAS: Via[] = ['x402', 'redeem']

export async function moneyWorld(options: MoneyWorldOptions) {
  // The redeem call is served so that both ways of burning can be tested on one ledger.
  const ledger = createLocalLedger({ serveRedeem: true })
  const owner = ledger.createAccount({ funds: 0 })
  const alice = ledger.createAccount({ funds: 1_000_000 })
  const planId = ledger.createPlan({ credits: options.credits, price: 1, owner: owner.address })
  const auth = (key: string) => ({ Authorization: `Bearer ${key}` })
  for (let i = 0; i < (options.initialOrders ?? 0); i++) {
    await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: auth(alice.apiKey) })
  }
  if (options.used) {
    const body = JSON.stringify({ planId, holderAddress: alice.address, amount: options.used, proof: 'out-of-band' })
    await ledger.fetch(`${ledger.baseUrl}/protocol/plans/redeem`, { method: 'POST', headers: auth(owner.apiKey), body })
  }
  const initial = ledger.balance(planId, alice.address).remaining
  const ordersBefore = ledger.orders(planId)

  // Every redeem call's body, to check proofs.
  const redeemCalls: Array<{ proof: string; amount: number; holderAddress: string }> = []
  const fetch = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    if (request.url.endsWith('/protocol/plans/redeem')) redeemCalls.push(await request.clone().json())
    return ledger.fetch(request)
  }
  const recorder = new Recorder()
  const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch, logger: recorder.logger, hooks: recorder.hooks, ...options.gate })

  let send: (req: PaidRequest) => Promise<Outcome>
  let close = async () => {}
  if ((options.adapter ?? 'hono') === 'hono') {
    const app = new Hono<{ Variables: PlanVariables }>()
    app.all('/paid', requirePlan(planId, { gate, cost: (c) => Number(c.req.header('x-cost')) }), async (c) => {
      await sleep(Number(c.req.header('x-wait')))
      return c.json({ admitted: true }, Number(c.req.header('x-status')) as 200)
    })
    send = async (req) => {
      const res = await app.request('/paid', {
        headers: { ...auth(alice.apiKey), 'x-cost': String(req.cost), 'x-status': String(req.status), 'x-wait': String(req.waitMs) },
      })
      return outcome(res.status, await res.text(), req)
    }
  } else {
    const server = await AGENTS[options.adapter!](gate, planId, { started: 0, finished: 0 })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
    send = async (req) => {
      const res = await post(`${server.url}/paid?cost=${req.cost}&status=${req.status}&wait=${req.waitMs}`, auth(alice.apiKey), agent)
      return outcome(res.status, res.text, req)
    }
    let closing: Promise<void> | undefined
    close = () => (closing ??= server.close().finally(() => agent.destroy()))
    open.add(close)
  }

  return {
    ledger,
    alice,
    owner,
    planId,
    gate,
    recorder,
    redeemCalls,
    initial,
    send,
    /** Sends every request at once. */
    burst: (requests: PaidRequest[]) => Promise.all(requests.map(send)),
    /** Sends the requests in `waves` groups, a few ms apart, each group all at once. */
    async waves(requests: PaidRequest[], waves: number): Promise<Outcome[]> {
      const pending: Array<Promise<Outcome>> = []
      const size = Math.ceil(requests.length / waves)
      for (let i = 0; i < requests.length; i += size) {
        pending.push(...requests.slice(i, i + size).map(send))
        await sleep(2)
      }
      return Promise.all(pending)
    },
    /** Orders the gate placed (charged upstream). */
    ordersByGate: () => ledger.orders(planId) - ordersBefore,
    inject: (endpoint: LedgerEndpoint, fault: LedgerFault) => ledger.inject(endpoint, fault),
    /** The endpoint the gate burns through. */
    burnEndpoint: (options.gate?.settle?.via === 'redeem' ? 'redeem' : 'settle') as LedgerEndpoint,
    /** Stops the agent's server, if it has one. */
    close,
  }
}

export const served = (outcomes: Outcome[]) => outcomes.filter((o) => o.status >= 200 && o.status < 300)
export const sumCost = (outcomes: Outcome[]) => outcomes.reduce((sum, o) => sum + o.cost, 0)

/** Faults of the burn call (redeem or settle) by name: the ones the retries must absorb. */
export const REDEEM_FAULTS = {
  '503': { status: 503 },
  '500': { status: 500 },
  'time-out': { delayMs: 200 },
  'time-out after applying': { delayMs: 200, afterApply: true },
  'answer lost after applying (network)': { afterApply: true, network: true },
  'answer lost after applying (500)': { afterApply: true, status: 500 },
} satisfies Record<string, LedgerFault>
export type RedeemFaultName = keyof typeof REDEEM_FAULTS
/** Faults after which the credits were NOT taken upstream. */
export const NOT_APPLIED: RedeemFaultName[] = ['503', '500', 'time-out']
