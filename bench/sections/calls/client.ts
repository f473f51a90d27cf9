/**
 * The per-call section's measuring process: N upstream calls of each kind against the stand-in
 * API (lib/peers/upstream.ts, another process, answering at once), made through plangate and as a bare
 * `fetch` of the same request, and the CPU this process spent per call (process.cpuUsage: user +
 * system, so time the process waited or was descheduled on a shared machine is not counted, and
 * neither is the stand-in's work). Alternating rounds; prints JSON (CallSeries[]) last.
 *
 *   node --import tsx --conditions=plangate-source sections/calls/client.ts '<CallsConfig as JSON>'
 */
import { createPlanGate, NeverminedClient, type FetchLike, type PlanGate } from '@plangate/core'
import { parseApiKey, paymentRequired } from '../../lib/core-adapter'
// Not exported by the package: the answers' zod schemas and their hand-checked readers, timed on their own.
import { readBalance, readDelegation, readPermission, readSettle, readVerify } from '../../../packages/core/src/answers'
import { balanceSchema } from '../../../packages/core/src/schemas'
import { delegationAnswerSchema, permissionAnswerSchema, settleAnswerSchema, verifyAnswerSchema } from '../../../packages/core/src/x402/schemas'
import { createNodeFetch } from '@plangate/node'
import { CALL_KINDS, type AnswerCheck, type CallKind, type CallsConfig, type CallsResult, type CallSeries, type CallWay } from './protocol'

const config = JSON.parse(process.argv[2]!) as CallsConfig
const { baseUrl, agentKey, agentId, planId, keys, tokens } = config
const client = new NeverminedClient({ baseUrl, timeoutMs: 10_000 })
const nodeFetch = createNodeFetch()
const nodeClient = new NeverminedClient({ baseUrl, timeoutMs: 10_000, fetch: nodeFetch })
const addresses = keys.map((key) => parseApiKey(key).address)
const scheme = { scheme: 'nvm:erc4337', network: 'eip155:84532' }
const required = paymentRequired(planId, scheme, agentId, { url: '/ask', method: 'GET' })

/** The delegation each holder's permission calls name (one each, made once). */
const delegations: string[] = []
for (const key of keys) {
  delegations.push((await client.createDelegation({ provider: 'erc4337', spendingLimitCents: 1_000_000, durationSecs: 86_400, currency: 'usdc', planId }, key)).delegationId)
}

interface Call {
  method: 'GET' | 'POST'
  path: string
  key: string
  body: unknown
  /** The same call through plangate's client `c`. */
  client(c: NeverminedClient): Promise<unknown>
}

/** Call `i` of a kind: holder `i mod holders`, so calls in flight at once are different holders'. */
function call(kind: CallKind, i: number): Call {
  const h = i % keys.length
  const facilitator = { paymentRequired: required, x402AccessToken: tokens[h]!, maxAmount: '1' }
  switch (kind) {
    case 'settle':
      return { method: 'POST', path: '/x402/settle', key: agentKey, body: facilitator, client: (c) => c.settle(facilitator, agentKey) }
    case 'verify':
      return { method: 'POST', path: '/x402/verify', key: agentKey, body: facilitator, client: (c) => c.verify(facilitator, agentKey) }
    case 'balance': {
      const path = `/protocol/plans/${planId}/balance/${addresses[h]}`
      return { method: 'GET', path, key: keys[h]!, body: undefined, client: (c) => c.balance(planId, addresses[h]!, keys[h]!) }
    }
    case 'delegation': {
      const body = { provider: 'erc4337' as const, spendingLimitCents: 1_000_000, durationSecs: 86_400, currency: 'usdc' as const, planId }
      return { method: 'POST', path: '/delegation/create', key: keys[h]!, body, client: (c) => c.createDelegation(body, keys[h]!) }
    }
    case 'permission': {
      const body = { accepted: { scheme: scheme.scheme, network: scheme.network, planId, extra: { agentId } }, delegationConfig: { delegationId: delegations[h]! } }
      return { method: 'POST', path: '/x402/permissions', key: keys[h]!, body, client: (c) => c.createPermission(body, keys[h]!) }
    }
  }
}

/**
 * The floor: the same request with `fetch`, the body serialised ahead (it is the caller's data),
 * the answer read as JSON and its status checked, nothing else: no time-out, no validation.
 */
function floor(c: Call): () => Promise<unknown> {
  const headers: Record<string, string> = { Accept: 'application/json', 'Nevermined-Version': '1.1', Authorization: `Bearer ${c.key}` }
  if (c.body !== undefined) headers['Content-Type'] = 'application/json'
  const init: RequestInit = { method: c.method, headers, ...(c.body === undefined ? {} : { body: JSON.stringify(c.body) }) }
  const url = baseUrl + c.path
  return async () => {
    const response = await fetch(url, init)
    if (!response.ok) throw new Error(`bench: ${c.path} answered ${response.status}`)
    return response.json()
  }
}

// Gates for the settle path: immediate, and batched with a window no run reaches (never settles
// while measured). Each is warmed once per holder (balance read, x402 token obtained).
const gateOptions = { apiKey: agentKey, environment: baseUrl, agentId, cache: { ttlMs: 3_600_000 } }
const immediate = createPlanGate({ ...gateOptions, settle: { batchMs: 0 } })
const immediateNode = createPlanGate({ ...gateOptions, fetch: nodeFetch, settle: { batchMs: 0 } })
const batched = createPlanGate({ ...gateOptions, settle: { batchMs: 3_600_000 } })
// Settle answered here at once, as the stand-in would (a success with a remaining balance); every
// other call (the warm-up's balance read and token) goes to the stand-in.
let remaining = 1e12
const settleAnswer = () => ({ success: true, payer: addresses[0], transaction: '0x01', network: scheme.network, creditsRedeemed: '1', remainingBalance: String(--remaining) })
const answeredHere: FetchLike = (url, init) =>
  url.endsWith('/x402/settle')
    ? Promise.resolve({ ok: true, status: 200, headers: { get: () => null }, body: null, json: () => Promise.resolve(settleAnswer()) })
    : fetch(url, init)
const inProcess = createPlanGate({ ...gateOptions, fetch: answeredHere, settle: { batchMs: 0 } })
const resource = { url: '/ask', method: 'GET' }
for (const key of keys) {
  await (await immediate.reserve(planId, key, 1, resource)).commit()
  await (await immediateNode.reserve(planId, key, 1, resource)).commit()
  await (await inProcess.reserve(planId, key, 1, resource)).commit()
  // Not awaited: a batched commit settles when its window closes.
  void (await batched.reserve(planId, key, 1, resource)).commit()
}

function gateCall(gate: PlanGate, awaitSettle: boolean): (i: number) => Promise<unknown> {
  return async (i) => {
    const lease = await gate.reserve(planId, keys[i % keys.length]!, 1, resource)
    const settled = lease.commit()
    if (awaitSettle && (await settled) === undefined) throw new Error('bench: an immediate settle gave no receipt')
  }
}

/** Runs `n` calls, `concurrency` at a time, and returns the CPU µs this process spent per call. */
async function measure(n: number, run: (i: number) => Promise<unknown>): Promise<number> {
  n = Math.max(1, Math.round(n))
  let next = 0
  const worker = async () => {
    while (next < n) await run(next++)
  }
  const before = process.cpuUsage()
  await Promise.all(Array.from({ length: config.concurrency }, worker))
  const spent = process.cpuUsage(before)
  return (spent.user + spent.system) / n
}

interface Way {
  kind: CallSeries['kind']
  way: CallWay
  run: (i: number) => Promise<unknown>
}
const ways: Way[] = []
for (const kind of CALL_KINDS) {
  const floors = keys.map((_, h) => floor(call(kind, h)))
  ways.push({ kind, way: 'floor', run: (i) => floors[i % floors.length]!() })
  ways.push({ kind, way: 'client', run: (i) => call(kind, i).client(client) })
  ways.push({ kind, way: 'client, createNodeFetch', run: (i) => call(kind, i).client(nodeClient) })
}
ways.push({ kind: 'settle (gate)', way: 'gate settle', run: gateCall(immediate, true) })
ways.push({ kind: 'settle (gate)', way: 'gate settle, createNodeFetch', run: gateCall(immediateNode, true) })
ways.push({ kind: 'settle (gate)', way: 'gate settle, answered in process', run: gateCall(inProcess, true) })
ways.push({ kind: 'settle (gate)', way: 'gate batched', run: gateCall(batched, false) })

const series = ways.map((w): CallSeries => ({ kind: w.kind, way: w.way, cpuMicrosPerCall: [] }))
// Warm-up: every way once at an eighth of the length (the JIT, the connections).
for (const w of ways) await measure(Math.max(50, config.calls >> 3), w.run)
// The ways of one kind are compared with each other: within a round they take turns in blocks of
// BLOCK calls (the order reversed every block), so a burst of load from elsewhere on a shared
// machine falls on each of them alike; the round's figure is each way's CPU over all its blocks.
const BLOCK = 100
const kinds = [...new Set(ways.map((w) => w.kind))]
for (let round = 0; round < config.rounds; round++) {
  for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
    const mine = ways.map((w, i) => i).filter((i) => ways[i]!.kind === kind)
    const spent = new Map<number, number>(mine.map((i) => [i, 0]))
    const blocks = Math.max(1, Math.round(config.calls / BLOCK))
    for (let b = 0; b < blocks; b++) {
      for (const i of b % 2 === 0 ? mine : [...mine].reverse()) spent.set(i, spent.get(i)! + (await measure(config.calls / blocks, ways[i]!.run)))
    }
    for (const i of mine) series[i]!.cpuMicrosPerCall.push(spent.get(i)! / blocks)
  }
  console.error(`calls: round ${round + 1} of ${config.rounds}`)
}
await Promise.all([immediate.close(), immediateNode.close(), inProcess.close(), batched.close()])

// The answers' checks alone, on an answer of each kind as the stand-in gave it: zod against the readers.
const checkers: Record<CallKind, [{ safeParse(a: unknown): { success: boolean } }, (a: unknown) => unknown]> = {
  settle: [settleAnswerSchema, readSettle],
  balance: [balanceSchema, readBalance],
  verify: [verifyAnswerSchema, readVerify],
  delegation: [delegationAnswerSchema, readDelegation],
  permission: [permissionAnswerSchema, readPermission],
}
const cpuPerCheck = (check: () => unknown, n: number) => {
  const before = process.cpuUsage()
  for (let i = 0; i < n; i++) if (check() === undefined) throw new Error('bench: an answer check refused the answer')
  const spent = process.cpuUsage(before)
  return (spent.user + spent.system) / n
}
const checks: AnswerCheck[] = []
for (const kind of CALL_KINDS) {
  const answer = await floor(call(kind, 0))()
  const [schema, read] = checkers[kind]
  const zod = () => (schema.safeParse(answer).success ? true : undefined)
  const hand = () => read(answer)
  const n = Math.max(200, config.calls * 5)
  cpuPerCheck(zod, n)
  cpuPerCheck(hand, n)
  const check: AnswerCheck = { kind, zodMicros: [], handMicros: [] }
  for (let round = 0; round < config.rounds; round++) {
    check.zodMicros.push(cpuPerCheck(zod, n))
    check.handMicros.push(cpuPerCheck(hand, n))
  }
  checks.push(check)
}
console.log(JSON.stringify({ series, checks } satisfies CallsResult))
process.exit(0)
