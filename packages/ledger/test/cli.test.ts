/**
 * `npx @plangate/ledger` as a user runs it: a real process listening on loopback, driven with
 * fetch over real HTTP, stopped with real signals.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Seed } from '../src/cli/seed'
import { kill, startCli, type CliProcess } from './cli-process'

const running: CliProcess[] = []
afterEach(() => {
  for (const cli of running.splice(0)) kill(cli)
})

function start(args: string[]): CliProcess {
  const cli = startCli(args)
  running.push(cli)
  return cli
}

async function startSeeded(args: string[] = []): Promise<{ cli: CliProcess; seed: Seed }> {
  const cli = start(['--port', '0', '--json', ...args])
  return { cli, seed: JSON.parse(await cli.firstLine()) as Seed }
}

const bearer = (key: string) => ({ Authorization: `Bearer ${key}` })

describe('plangate-ledger --port 0 --json', () => {
  it('prints a seed that works over HTTP: the balance moves with an order, and an empty wallet is refused', async () => {
    const { seed } = await startSeeded(['--credits', '3', '--price', '10', '--funds', '15'])
    expect(seed.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+\/api\/v1$/)
    expect(seed.baseUrl).not.toContain(':0/')
    expect(seed.plan).toEqual({ credits: 3, price: 10 })
    expect(seed.subscriber.funds).toBe(15)
    expect(seed.builder.address).not.toBe(seed.subscriber.address)
    for (const account of [seed.builder, seed.subscriber]) {
      expect(account.address).toMatch(/^0x[0-9a-f]{40}$/)
      expect(account.apiKey).toMatch(/^nvm:[\w-]+\.[\w-]+\.[\w-]+$/)
    }

    const plan = `${seed.baseUrl}/protocol/plans/${seed.planId}`
    const balance = async () => {
      const response = await fetch(`${plan}/balance/${seed.subscriber.address}`, { headers: bearer(seed.subscriber.apiKey) })
      expect(response.status).toBe(200)
      return (await response.json()) as { isSubscriber: boolean; remaining: number; total: number }
    }
    expect(await balance()).toMatchObject({ isSubscriber: false, remaining: 0, total: 0 })

    const order = await fetch(`${plan}/order`, { method: 'POST', headers: bearer(seed.subscriber.apiKey) })
    expect(order.status).toBe(200)
    expect(await order.json()).toMatchObject({ success: true, txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
    expect(await balance()).toMatchObject({ isSubscriber: true, remaining: 3, total: 3 })

    // 15 - 10 leaves 5: not enough for a second order.
    const second = await fetch(`${plan}/order`, { method: 'POST', headers: bearer(seed.subscriber.apiKey) })
    expect(second.status).toBe(402)
    expect(await balance()).toMatchObject({ remaining: 3 })
  })

  it("seeds the plan as the builder's, at the price and credits asked for", async () => {
    const { seed } = await startSeeded(['--credits', '7', '--price', '2.5'])
    const response = await fetch(`${seed.baseUrl}/protocol/plans/${seed.planId}`, { headers: bearer(seed.builder.apiKey) })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { registry: { owner: string; credits: { amount: string | number } } }
    expect(body.registry.owner.toLowerCase()).toBe(seed.builder.address)
    expect(Number(body.registry.credits.amount)).toBe(7)
  })

  it('answers the redeem call only with --serve-redeem', async () => {
    const redeem = (seed: Seed) =>
      fetch(`${seed.baseUrl}/protocol/plans/redeem`, {
        method: 'POST',
        headers: { ...bearer(seed.builder.apiKey), 'Content-Type': 'application/json' },
        body: JSON.stringify({ planId: seed.planId, holderAddress: seed.subscriber.address, amount: 1, proof: 'p-1' }),
      })
    const plain = await startSeeded()
    expect((await redeem(plain.seed)).status).toBe(404)
    const serving = await startSeeded(['--serve-redeem'])
    // The subscriber holds no credits yet: a 402 from the redeem call, not a 404 for a missing route.
    expect((await redeem(serving.seed)).status).toBe(402)
  })
})

describe('plangate-ledger stops', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('on %s with exit code 0, and the port then refuses connections', async (signal) => {
    const { cli, seed } = await startSeeded()
    cli.child.kill(signal)
    expect(await cli.exited).toEqual({ code: 0, signal: null })
    expect(cli.stderr()).toContain(`${signal}: stopped`)
    await expect(fetch(`${seed.baseUrl}/protocol/plans/${seed.planId}`)).rejects.toThrow()
  })
})

describe('plangate-ledger refuses bad flags with exit code 2 and a message naming the flag', () => {
  it.each([
    [['--port', 'eighty'], '--port'],
    [['--port', '65536'], '--port'],
    [['--credits', '0'], '--credits'],
    [['--price', '-1'], '--price'],
    [['--funds', 'lots'], '--funds'],
    [['--bogus'], '--bogus'],
    [['--json=yes'], '--json'],
    [['--port'], '--port'],
  ])('%j', async (args, flag) => {
    const cli = start(args)
    expect(await cli.exited).toEqual({ code: 2, signal: null })
    expect(cli.stderr()).toContain(flag)
    expect(cli.stderr()).toContain('--help')
    expect(cli.stdout()).toBe('')
  })

  it('exits 1 naming --port when the port is taken', async () => {
    const { seed } = await startSeeded()
    const port = new URL(seed.baseUrl).port
    const second = start(['--port', port])
    expect(await second.exited).toEqual({ code: 1, signal: null })
    expect(second.stderr()).toContain(`cannot listen on 127.0.0.1:${port}`)
    expect(second.stderr()).toContain('--port 0')
  })
})
