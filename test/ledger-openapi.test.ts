import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createLocalLedger } from '@plangate/core/local'
import Ajv2020 from 'ajv/dist/2020'
import addFormats from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

// The published OpenAPI of the order call (a verbatim copy, so the test runs without ../shared).
const root = fileURLToPath(new URL('..', import.meta.url))
const fixturePath = fileURLToPath(new URL('./fixtures/order-plan.openapi.md', import.meta.url))
const markdown = readFileSync(fixturePath, 'utf8')
const ORDER_PATH = '/protocol/plans/{planId}/order'

interface OpenApiDoc {
  paths: Record<string, { post: OrderOperation }>
  components: { schemas: Record<string, JsonSchema> }
}
interface OrderOperation {
  parameters: { name: string; in: string; required: boolean; schema: JsonSchema }[]
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>
}
type JsonSchema = { [key: string]: unknown }

function extractYaml(md: string): string {
  const match = /^````yaml[^\n]*\n([\s\S]*?)\n````/m.exec(md)
  if (!match) throw new Error('no ````yaml block in the OpenAPI markdown')
  return match[1]!
}

/** Inlines every `$ref: '#/components/schemas/X'`, so ajv gets one self-contained schema. */
function resolveRefs(schema: unknown, doc: OpenApiDoc, seen: string[] = []): unknown {
  if (Array.isArray(schema)) return schema.map((item) => resolveRefs(item, doc, seen))
  if (typeof schema !== 'object' || schema === null) return schema
  const ref = (schema as { $ref?: unknown }).$ref
  if (typeof ref === 'string') {
    const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1]
    const target = name === undefined ? undefined : doc.components.schemas[name]
    if (!target) throw new Error(`unresolvable $ref ${ref}`)
    if (seen.includes(ref)) throw new Error(`recursive $ref ${ref}`)
    return resolveRefs(target, doc, [...seen, ref])
  }
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, resolveRefs(value, doc, seen)]))
}

const doc = parse(extractYaml(markdown)) as OpenApiDoc
const operation = doc.paths[ORDER_PATH]!.post
const orderSchema = resolveRefs(operation.responses['200']!.content!['application/json']!.schema, doc) as JsonSchema

const ajv = new Ajv2020({ strict: true, allErrors: true })
addFormats(ajv)
const validateOrder = ajv.compile(orderSchema)

function scenario() {
  let time = Date.parse('2030-06-01T12:00:00.000Z')
  const ledger = createLocalLedger({ now: () => time })
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 100 })
  const expiring = ledger.createPlan({ credits: 5, price: 10, owner: owner.address, durationSeconds: 3600 })
  const forever = ledger.createPlan({ credits: 5, price: 10, owner: owner.address })
  const order = (planId: string, apiKey = alice.apiKey) =>
    ledger.fetch(`${ledger.baseUrl}${ORDER_PATH.replace('{planId}', planId)}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, Accept: 'application/json', 'Nevermined-Version': '1.1' },
    })
  return { ledger, owner, alice, expiring, forever, order, advance: (ms: number) => void (time += ms) }
}

describe('the local ledger against the published order-plan OpenAPI', () => {
  it('reads the spec: the order path, its planId path parameter and the statuses', () => {
    expect(markdown).toMatch(/^````yaml POST \/protocol\/plans\/\{planId\}\/order$/m)
    expect(Object.keys(doc.paths)).toEqual([ORDER_PATH])
    expect(operation.parameters).toEqual([
      expect.objectContaining({ name: 'planId', in: 'path', required: true, schema: { type: 'integer' } }),
    ])
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '401', '402', '404'])
    expect(orderSchema).toMatchObject({ properties: { balance: { properties: { expiresAt: { format: 'date-time' } } } } })
  })

  it('answers the 200 of an order in the OrderPlanResponse schema (date-time included)', async () => {
    const { expiring, order, advance } = scenario()
    for (let i = 0; i < 3; i++) {
      const res = await order(expiring)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/json')
      const body: unknown = await res.json()
      expect(validateOrder(body), ajv.errorsText(validateOrder.errors)).toBe(true)
      expect(body).toMatchObject({ success: true, balance: { isSubscriber: true, total: 5 * (i + 1) } })
      advance(60_000)
    }
  })

  it('would catch an answer that breaks the schema (the check is real)', () => {
    const good = { success: true, txHash: '0xab', balance: { isSubscriber: true, total: 1, used: 0, remaining: 1, expiresAt: '2030-06-01T13:00:00.000Z' } }
    expect(validateOrder(good)).toBe(true)
    expect(validateOrder({ ...good, balance: { ...good.balance, expiresAt: 'next tuesday' } })).toBe(false)
    expect(validateOrder({ ...good, balance: { ...good.balance, remaining: 1.5 } })).toBe(false)
    expect(validateOrder({ ...good, success: 'yes' })).toBe(false)
  })

  it('answers expiresAt null for a plan that never expires, where the published schema says string', async () => {
    // plangate reads `expiresAt: date-time | null`; the published schema has no null. The ledger
    // answers null for credits that never expire, and this pins that this is the one place where they differ.
    const { forever, order } = scenario()
    const body: unknown = await (await order(forever)).json()
    expect(validateOrder(body)).toBe(false)
    expect(validateOrder.errors).toEqual([expect.objectContaining({ instancePath: '/balance/expiresAt', keyword: 'type' })])
    expect((body as { balance: { expiresAt: unknown } }).balance.expiresAt).toBeNull()
  })

  it('answers each error status the spec lists in its case', async () => {
    const cases: Record<string, () => Promise<Response>> = {
      // Unauthorized: a key this ledger did not issue.
      '401': async () => {
        const s = scenario()
        return s.order(s.expiring, createLocalLedger().createAccount().apiKey)
      },
      // Payment failed: the wallet cannot pay the price.
      '402': async () => {
        const s = scenario()
        const poor = s.ledger.createAccount({ funds: 9 })
        return s.order(s.expiring, poor.apiKey)
      },
      // Plan not found.
      '404': async () => scenario().order('999'),
    }
    const listed = Object.keys(operation.responses).filter((status) => status !== '200')
    // A status added to the spec needs a case here, so the test cannot silently pass it by.
    expect(Object.keys(cases).sort()).toEqual(listed.sort())
    for (const status of listed) {
      const res = await cases[status]!()
      expect(res.status, `case ${status}`).toBe(Number(status))
    }
  })

  it('fills the {planId} path parameter with the decimal plan id', async () => {
    const { ledger, expiring, order } = scenario()
    expect(ORDER_PATH.replace('{planId}', expiring)).toBe(`/protocol/plans/${expiring}/order`)
    expect((await order(expiring)).status).toBe(200)
    expect(ledger.orders(expiring)).toBe(1)
    // The spec's integer type: no other spelling of an id reaches a plan.
    expect((await order('1.0')).status).toBe(404)
    expect((await order('{planId}')).status).toBe(404)
  })

  it('keeps the fixture byte for byte equal to the shared original, when that is present', (ctx) => {
    const shared = fileURLToPath(new URL('../shared/nevermined/order-plan.openapi.md', `file://${root}`))
    if (!existsSync(shared)) return ctx.skip()
    expect(readFileSync(fixturePath).equals(readFileSync(shared))).toBe(true)
  })
})
