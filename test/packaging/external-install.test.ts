/**
 * The packages as a user gets them: packed by pnpm (which turns `workspace:^` into versions),
 * installed with npm into a directory outside the workspace next to express and hono from the
 * registry, then loaded with `import` and with `require` by consumer/*.
 *
 * The peers are the oldest versions docs/reference/frameworks.md claims ("Supported versions": Express 4.17.0, Hono 4.7.7, Koa 2.13.0,
 * Fastify 5.0.0) plus Express 5 and Koa 3; the workspace's own tests run the newest. Needs the builds (CI runs `pnpm build`
 * first; here a missing or stale dist/ is rebuilt) and the npm registry.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installApp, lockedPackages, manifest, packWorkspace, run } from './pack-install'

const PACKAGES = ['ledger', 'core', 'express', 'hono', 'koa', 'fastify', 'node', 'proxy'] as const
const PEERS = ['express@^5', 'express4@npm:express@4.17.0', 'hono@4.7.7', 'koa@^3', 'koa2@npm:koa@2.13.0', 'fastify@5.0.0']

const dir = mkdtempSync(join(tmpdir(), 'plangate-consumer-'))
const app = join(dir, 'app')

/** Runs consumer/esm.mjs or consumer/cjs.cjs in the installed app; they print what they saw. */
async function consume(file: string) {
  return JSON.parse((await run(process.execPath, [file], { cwd: app })).stdout) as { missing: string[]; resolved: string[] }
}

beforeAll(async () => {
  const tarballs = await packWorkspace(PACKAGES, dir)
  await installApp(app, fileURLToPath(new URL('./consumer', import.meta.url)), [...tarballs, ...PEERS])
}, 420_000) // packs and installs nine packages and their peers from the registry

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the packed packages, installed with npm outside the workspace', () => {
  it('installs our tarballs once each: no second @plangate/core from the registry', () => {
    const locked = lockedPackages(app)
    const ours = Object.entries(locked).filter(([path]) => path.includes('node_modules/@plangate/'))
    expect(ours.map(([path]) => path).sort()).toEqual(PACKAGES.map((pkg) => `node_modules/@plangate/${pkg}`).sort())
    for (const [, entry] of ours) expect(entry.resolved).toMatch(/^file:.*\.tgz$/)
    expect(locked['node_modules/express4']?.version).toBe('4.17.0')
    expect(locked['node_modules/hono']?.version).toBe('4.7.7')
    expect(locked['node_modules/koa2']?.version).toBe('2.13.0')
    expect(locked['node_modules/fastify']?.version).toBe('5.0.0')
  })

  it.each([
    ['import', 'esm.mjs', /dist\/(index|adapter|store|local)\.js$/],
    ['require', 'cjs.cjs', /dist\/(index|adapter|store|local)\.cjs$/],
  ])('with %s: every export is there, from dist/, and requirePlan charges a request on Express 5, Express 4.17, Hono, Koa 3, Koa 2.13 and Fastify, and through createNodeFetch', async (_how, file, built) => {
    const { missing, resolved, ...runs } = await consume(file)
    expect(missing).toEqual([])
    for (const path of resolved) expect(path).toMatch(built)
    for (const [name, outcome] of Object.entries(runs)) {
      expect(outcome, name).toEqual({
        paid: 200,
        remaining: '1',
        balance: 1,
        anonymous: 401,
        problem: expect.stringMatching(/^application\/problem\+json/),
        orders: 1,
        redeemed: 1,
      })
    }
    expect(Object.keys(runs).sort()).toEqual(['express4', 'express5', 'fastify', 'hono', 'koa2', 'koa3', 'nodeFetch'])
  })

  it('runs `npx @plangate/proxy`: --local puts a plan in front of an API and prints a curl that works', async () => {
    expect((await run('npx', ['--no', '--', '@plangate/proxy', '--version'], { cwd: app })).stdout.trim()).toBe(manifest('proxy').version)
    const api = createServer((req, res) => res.end(JSON.stringify({ url: req.url, authorization: req.headers.authorization ?? null })))
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
    const upstream = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
    const child = spawn(process.execPath, [join(app, 'node_modules/@plangate/proxy/dist/cli.js'), '--local', '--upstream', upstream, '--port', '0'], { cwd: app })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    try {
      const deadline = Date.now() + 30_000
      let curl: RegExpExecArray | null = null
      while (!(curl = /^curl -i (\S+) -H 'Authorization: Bearer (\S+)'$/m.exec(output)) && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect(curl, output).not.toBeNull()
      const response = await fetch(curl![1]!, { headers: { Authorization: `Bearer ${curl![2]!}` } })
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ url: '/', authorization: null })
      expect(response.headers.get('x-credits-remaining')).toBe('9')
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(output).toContain('1 credit(s) redeemed on the local ledger')
    } finally {
      child.kill('SIGKILL')
      await new Promise((resolve) => api.close(resolve))
    }
  }, 60_000)
})
