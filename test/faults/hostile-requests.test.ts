/**
 * Hostile requests against every adapter over real HTTP: malformed, huge and space-stuffed
 * Authorization headers, non-UTF-8 bytes, and forged keys naming a victim's address (a `none`
 * alg, another signature) while the victim's balance is cached. Nothing crashes, nothing is
 * served without credits, the victim's credits are untouched, and every denial is problem+json
 * with a documented code. Plan ids with path tricks are refused when the middleware is created.
 */
import net from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPlanGate } from '@plangate/core'
import { encodeBase64Url } from '../../packages/ledger/src/base64url'
import { requirePlan as expressPlan } from '@plangate/express'
import Fastify from 'fastify'
import { plangate } from '@plangate/fastify'
import { requirePlan as honoPlan } from '@plangate/hono'
import { requirePlan as koaPlan } from '@plangate/koa'
import { ADAPTERS, CODES, expectNoSecrets, expectProblem, startWorld, type World } from './harness'

const jwtPart = (value: unknown) => encodeBase64Url(typeof value === 'string' ? value : JSON.stringify(value))
const b64url = fc.uint8Array({ minLength: 0, maxLength: 80 }).map((bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''))

/** A key naming `victim` (in any letter case) that the API never issued. */
function forgedKey(victim: string, victimKey: string): fc.Arbitrary<string> {
  const [, victimPayload, victimSignature] = victimKey.split('.')
  const header = fc.constantFrom({ alg: 'none' }, { alg: 'none', typ: 'JWT' }, { alg: 'HS256', typ: 'JWT' }, { alg: 'ES256K', typ: 'JWT' }, 'not json')
  const sub = fc.constantFrom(victim, victim.toUpperCase().replace('0X', '0x'), victim.replace(/[a-f]/g, (c) => c.toUpperCase()))
  const payload = fc.oneof(
    fc.record({ sub, iss: fc.constantFrom('plangate-local-ledger', 'nevermined', 'attacker'), jti: fc.string() }).map(jwtPart),
    fc.constant(victimPayload!),
  )
  const signature = fc.oneof(b64url.filter((s) => s.length > 0), fc.constant(victimSignature!), fc.constant('Zm9yZ2Vk'))
  const prefix = fc.constantFrom('nvm:', 'sandbox:', 'live:', '')
  return fc
    .tuple(prefix, header.map(jwtPart), payload, signature)
    .map(([p, h, pl, s]) => `${p}${h}.${pl}.${s}`)
    .filter((key) => key !== victimKey)
}

/** Header values fetch will send (tab, printable ASCII, bytes 0x80–0xFF; control bytes go raw, below). */
const headerSafe = fc.string({ unit: 'binary', maxLength: 200 }).map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, 'x'))
const authorization = (victim: string, victimKey: string) =>
  fc.oneof(
    headerSafe,
    headerSafe.map((s) => `Bearer ${s}`),
    fc.integer({ min: 1, max: 4_000 }).map((n) => `Bearer${' '.repeat(n)}x`),
    fc.integer({ min: 1, max: 4_000 }).map((n) => `${' '.repeat(n)}Bearer ${' '.repeat(n)}`),
    fc.constantFrom('Bearer', 'Bearer ', 'bearer', 'Basic dXNlcjpwYXNz', 'Bearer a b', `Bearer ${'a'.repeat(9_000)}`, `Bearer nvm:${'a.'.repeat(3_000)}a`),
    forgedKey(victim, victimKey).map((key) => `Bearer ${key}`),
    forgedKey(victim, victimKey).map((key) => `bEaReR \t ${key} \t`),
  )

describe.each(ADAPTERS)('%s: hostile requests over real HTTP', (adapter) => {
  let w: World
  let victimServed = 0

  beforeAll(async () => {
    w = await startWorld(adapter, { credits: 5, subscribed: true })
    // The victim's balance is cached: a forged key must not spend it.
    expect((await w.call()).status).toBe(200)
    victimServed = 1
  })
  afterAll(() => w.close())

  const send = async (headers: Record<string, string>) => {
    const res = await fetch(`${w.url}/paid`, { method: 'POST', headers })
    return { status: res.status, headers: res.headers, text: await res.text() }
  }

  it('never serves a hostile Authorization header, and denies it with a documented problem', async () => {
    await fc.assert(
      fc.asyncProperty(authorization(w.alice.address, w.alice.apiKey), async (value) => {
        const res = await send({ Authorization: value })
        expect(res.status).toBeGreaterThanOrEqual(400)
        if (res.status === 431) return // Node's own limit on header size, before any middleware runs
        expect([401, 503]).toContain(res.status)
        const code = JSON.parse(res.text).code as string
        expect(CODES).toContain(code)
        expectProblem(res, code, w.planId)
      }),
      { numRuns: 200 },
    )
    // The victim's credits were not touched, and the victim is still served.
    expect(w.ledger.orders(w.planId) - w.ordersBefore).toBe(0)
    expect((await w.call()).status).toBe(200)
    victimServed++
    await w.gate.close()
    expect(w.ledger.redeemed(w.planId)).toBe(victimServed)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(5 - victimServed)
    expectNoSecrets(w.recorder.everything(), [w.alice.apiKey, w.owner.apiKey])
  })

  it('a none-alg JWT with the victim as sub is refused upstream: 401, nothing spent', async () => {
    const [, payload] = w.alice.apiKey.split('.')
    for (const key of [`nvm:${jwtPart({ alg: 'none' })}.${payload}.x`, `${jwtPart({ alg: 'none', typ: 'JWT' })}.${payload}.AA`]) {
      const res = await send({ Authorization: `Bearer ${key}` })
      expectProblem(res, 'CREDENTIAL_INVALID', w.planId)
      expect(res.status).toBe(401)
    }
    await w.gate.close()
    expect(w.ledger.redeemed(w.planId)).toBe(victimServed)
  })

  it('raw bytes that are not UTF-8, and a header too big for Node, are refused without crashing', async () => {
    const { port } = new URL(w.url)
    const payload = Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28]).toString('base64url')
    const cases = [
      Buffer.concat([Buffer.from('Authorization: Bearer '), Buffer.from([0xff, 0xfe, 0x80, 0xc3, 0x28])]),
      Buffer.from(`Authorization: Bearer nvm:${jwtPart({ alg: 'none' })}.${payload}.AA`),
      Buffer.concat([Buffer.from('Authorization: Bearer nvm:'), Buffer.from([0xe2, 0x82]), Buffer.from('.a.b')]),
      Buffer.from(`Authorization: Bearer ${'x'.repeat(20_000)}`),
      Buffer.from('Authorization: Bearer \x01\x7f\x00abc'),
    ]
    for (const header of cases) {
      const status = await rawRequest(Number(port), header)
      expect(status).toBeGreaterThanOrEqual(400)
      expect(status).not.toBe(500)
    }
    expect((await w.call()).status).toBe(200) // still serving
    victimServed++
  })
})

/** Sends one HTTP/1.1 request with a raw header line; resolves with the status code. */
function rawRequest(port: number, headerLine: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let data = ''
    socket.on('data', (chunk) => (data += chunk.toString('latin1')))
    socket.on('error', reject)
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)))
    socket.end(Buffer.concat([Buffer.from('POST /paid HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n'), headerLine, Buffer.from('\r\n\r\n')]))
  })
}

describe('plan ids with path tricks are refused when the middleware is created', () => {
  const valid = (id: unknown) =>
    (typeof id === 'string' && /^[0-9]{1,100}$/.test(id)) ||
    (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) ||
    (typeof id === 'bigint' && id >= 0n && id.toString().length <= 100)
  const tricky = fc
    .oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('7/../8', '../redeem', '7/order', '7?x=1', '7#a', '%37', '%2e%2e', ' 7', '7 ', '7\n', '٧', '７', '+7', '-0', '0x7', '7e0', '1_000', '7.0', '', '\u0000'),
      fc.double(),
      fc.integer({ max: -1 }),
      fc.bigInt({ max: -1n }),
      fc.constantFrom(2 ** 60, Number.NaN, Infinity, null, undefined, {}, [], [7], true),
    )
    .filter((id) => !valid(id))
  const gate = createPlanGate({ apiKey: `nvm:${jwtPart({ alg: 'none' })}.${jwtPart({ sub: `0x${'1'.repeat(40)}` })}.AA`, environment: 'http://127.0.0.1:9/api/v1' })

  it('every adapter throws a TypeError; the gate refuses it before any call', async () => {
    const fastify = Fastify()
    await fastify.register(plangate)
    const fastifyPlan = fastify.requirePlan.bind(fastify)
    await fc.assert(
      fc.asyncProperty(tricky, async (id) => {
        expect(() => expressPlan(id as never, { gate })).toThrow(TypeError)
        expect(() => honoPlan(id as never, { gate })).toThrow(TypeError)
        expect(() => koaPlan(id as never, { gate })).toThrow(TypeError)
        expect(() => fastifyPlan(id as never, { gate })).toThrow(TypeError)
        await expect(gate.reserve(id as never, 'nvm:a.b.c')).rejects.toThrow(TypeError)
      }),
      { numRuns: 300 },
    )
  })
})
