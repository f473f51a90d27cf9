/**
 * The benchmark's floor (bench/lib/servers/floor.ts) is the yardstick BENCHMARKS.md measures the
 * targets against, so it must really do what it claims: hash the whole key (and key its map by
 * that digest only), take one credit, hand the balance to the route, set the success headers, and
 * give the credit back when the route fails. Real Express and Hono on @hono/node-server, over HTTP.
 */
import { createHash } from 'node:crypto'
import express from 'express'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { expressFloor, FUNDED, honoFloor, type FloorBalance } from '../bench/lib/servers/floor'
import { eventually } from '../packages/express/test/helpers'
import { listen, serveFetch } from './helpers/serve'

const KEY = `nvm:${'a'.repeat(40)}.${'b'.repeat(200)}.${'c'.repeat(43)}`
const PLAN = '7'
const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()))
})

async function expressServer(balances: Map<string, FloorBalance>): Promise<string> {
  const app = express()
  app.use(expressFloor(PLAN, balances))
  app.get('/ok', (req, res) => void res.json({ remaining: (req as unknown as { balance: FloorBalance }).balance.remaining }))
  app.get('/fail', (_req, res) => void res.status(500).json({ failed: true }))
  const server = await listen(app)
  open.push(server)
  return server.url
}

async function honoServer(balances: Map<string, FloorBalance>): Promise<string> {
  const app = new Hono()
  app.use('*', honoFloor(PLAN, balances))
  app.get('/ok', (c) => c.json({ remaining: (c.get('balance' as never) as FloorBalance).remaining }))
  app.get('/fail', (c) => c.json({ failed: true }, 500))
  const server = await serveFetch(app.fetch)
  open.push(server)
  return server.url
}

const get = (url: string, key?: string) => fetch(url, key ? { headers: { authorization: `Bearer ${key}` } } : {})

describe.each([
  ['Express', expressServer],
  ['Hono on node-server', honoServer],
])('the bench floor, %s', (_name, start) => {
  it('refuses a request without a key and keeps nothing for it', async () => {
    const balances = new Map<string, FloorBalance>()
    const response = await get(`${await start(balances)}/ok`)
    expect(response.status).toBe(401)
    expect(response.headers.get('x-credits-remaining')).toBeNull()
    expect(balances.size).toBe(0)
  })

  it('keys its balances by the SHA-256 of the whole key, takes one credit and hands the balance on', async () => {
    const balances = new Map<string, FloorBalance>()
    const url = await start(balances)
    const response = await get(`${url}/ok`, KEY)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ remaining: FUNDED - 1 })
    expect(response.headers.get('x-credits-remaining')).toBe(String(FUNDED - 1))
    expect(response.headers.get('x-plan-id')).toBe(PLAN)
    expect([...balances.keys()]).toEqual([createHash('sha256').update(KEY).digest('hex')])
    expect((await get(`${url}/ok`, KEY)).headers.get('x-credits-remaining')).toBe(String(FUNDED - 2))
  })

  it('gives the credit back when the route fails', async () => {
    const balances = new Map<string, FloorBalance>()
    const url = await start(balances)
    await (await get(`${url}/ok`, KEY)).arrayBuffer()
    const failed = await get(`${url}/fail`, KEY)
    expect(failed.status).toBe(500)
    await failed.arrayBuffer()
    // Express gives the credit back on 'close', just after the answer reached the client.
    await eventually(() => expect([...balances.values()]).toEqual([{ remaining: FUNDED - 1 }]))
  })
})
