/**
 * `@plangate/core` (both entry points) and `@plangate/hono` bundled as an edge runtime gets them:
 * esbuild, `platform: 'neutral'`, every dependency inside (zod, lru-cache, and hono itself for
 * the adapter). packages/core/test/web-only.test.ts checks our sources; this checks what actually
 * ships to a runtime, dependencies included, then runs it. The workerd runtime test runs the same
 * code with no Node API at all (test/runtimes/workerd.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, type Metafile } from 'esbuild'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

// Resolved from packages/hono, whose node_modules hold hono (its peer, as a user installs it).
const RESOLVE_DIR = join(ROOT, 'packages/hono')
const ENTRIES = {
  core: "export * from '../core/src/index.ts'",
  adapter: "export * from '../core/src/adapter.ts'",
  store: "export * from '../core/src/store.ts'",
  local: "export * from '../core/src/local/index.ts'",
  // Hono's own Hono class too, so the bundle can be run with nothing to resolve.
  hono: "export * from './src/index.ts'; export { Hono } from 'hono'",
} as const
type Name = keyof typeof ENTRIES

/**
 * lru-cache's default (neutral) build loads node:diagnostics_channel with a dynamic import whose
 * failure it catches, at module load. workerd (no nodejs_compat) rejects it harmlessly — the
 * runtime test proves it — and wrangler picks lru-cache's `browser` build, which has none.
 */
const ALLOWED_EXTERNALS = [{ from: /\/lru-cache\//, path: 'node:diagnostics_channel', kind: 'dynamic-import' }]

interface Bundle {
  text: string
  metafile: Metafile
  file: string
}

const dir = mkdtempSync(join(tmpdir(), 'plangate-web-bundle-'))
const bundles = {} as Record<Name, Bundle>

beforeAll(async () => {
  for (const name of Object.keys(ENTRIES) as Name[]) {
    const result = await build({
      stdin: { contents: ENTRIES[name], resolveDir: RESOLVE_DIR, sourcefile: `${name}-entry.ts`, loader: 'ts' },
      absWorkingDir: ROOT,
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      conditions: ['plangate-source'],
      logLevel: 'silent',
    })
    const text = result.outputFiles[0]!.text
    const file = join(dir, `${name}.js`)
    writeFileSync(file, text)
    bundles[name] = { text, metafile: result.metafile, file }
  }
}, 60_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** What a bundle leaves for the runtime to resolve: none but the allowed ones. */
function externals(metafile: Metafile): string[] {
  const found: string[] = []
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    for (const { path, kind, external } of imports) {
      const allowed = ALLOWED_EXTERNALS.some((a) => a.from.test(input) && a.path === path && a.kind === kind)
      if (external && !allowed) found.push(`${input} → ${kind} ${path}`)
    }
  }
  return found
}

/** Node-only globals used in code (comments and property names do not count). */
function nodeGlobals(text: string): string[] {
  const source = ts.createSourceFile('bundle.js', text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && !isPropertyName(node)) {
      const { parent } = node
      const line = () => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1
      const usedAsObject = (ts.isPropertyAccessExpression(parent) || ts.isElementAccessExpression(parent)) && parent.expression === node
      if (node.text === 'Buffer') found.push(`Buffer at line ${line()}`)
      // `globalThis.process?.env` and `typeof process == "object" && process` are guarded.
      if (node.text === 'process' && usedAsObject) found.push(`process. at line ${line()}`)
      if ((node.text === 'require' || node.text === '__require') && ts.isCallExpression(parent)) found.push(`require() at line ${line()}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

function isPropertyName(node: ts.Identifier): boolean {
  const { parent } = node
  return (
    (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
    ((ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent)) && parent.name === node)
  )
}

describe.each(Object.keys(ENTRIES) as Name[])('the %s bundle (platform neutral, dependencies inside)', (name) => {
  it('bundles our sources and its dependencies, and leaves no node: module (nor anything else) to resolve', () => {
    const { metafile, text } = bundles[name]
    const inputs = Object.keys(metafile.inputs)
    expect(inputs.some((input) => input.startsWith('packages/core/src/'))).toBe(true)
    // The gate's bundles carry its dependencies; the ledger's and the store steps' need none.
    if (name !== 'local' && name !== 'store') expect(inputs.some((input) => input.includes('/zod/'))).toBe(true)
    if (name !== 'local' && name !== 'store') expect(inputs.some((input) => input.includes('/lru-cache/'))).toBe(true)
    expect(externals(metafile)).toEqual([])
    // Belt and braces: no static import or require of node:* in the text either.
    expect(text).not.toMatch(/\bfrom\s*["']node:|require\(\s*["']node:/)
  })

  it('uses no Buffer, no unguarded process.…, no require()', () => {
    expect(nodeGlobals(bundles[name].text)).toEqual([])
  })
})

describe('the checks catch what they are for', () => {
  it('flags Buffer, process.env and require(), and lets guarded uses, comments and property names through', () => {
    expect(nodeGlobals('const b = Buffer.from("x"); const e = process.env.X; require("fs")')).toHaveLength(3)
    expect(nodeGlobals('const p = globalThis.process?.env; var I = typeof process == "object" && process ? process : {}')).toEqual([])
    expect(nodeGlobals('// process.env and Buffer\nconst o = { process: 1, Buffer() {} }; o.process; o.Buffer()')).toEqual([])
  })

  it('a node: import fails the build, except a guarded dynamic one (as in lru-cache), which is flagged', async () => {
    const bundle = (contents: string) =>
      build({ stdin: { contents, resolveDir: RESOLVE_DIR, loader: 'ts' }, bundle: true, write: false, metafile: true, format: 'esm', platform: 'neutral', logLevel: 'silent' })
    await expect(bundle("import { createHash } from 'node:crypto'; export const h = createHash")).rejects.toThrow(/node:crypto/)
    await expect(bundle("export const fs = () => import('node:fs')")).rejects.toThrow(/node:fs/)
    const dynamic = await bundle("export const fs = () => import('node:fs').catch(() => undefined)")
    expect(externals(dynamic.metafile)).toEqual(['<stdin> → dynamic-import node:fs'])
  })
})

describe('the bundles run', () => {
  it('core + local: an order, a reservation and its redemption', async () => {
    const core = (await import(/* @vite-ignore */ pathToFileURL(bundles.core.file).href)) as typeof import('@plangate/core')
    const local = (await import(/* @vite-ignore */ pathToFileURL(bundles.local.file).href)) as typeof import('@plangate/core/local')
    const ledger = local.createLocalLedger()
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 10 })
    const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
    const gate = core.createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
    const lease = await gate.reserve(planId, alice.apiKey)
    expect(lease.balance.remaining).toBe(1)
    await lease.commit()
    expect([ledger.orders(planId), ledger.redeemed(planId)]).toEqual([1, 1])
  })

  it('hono: requirePlan on a Hono app charges a request and refuses one without a key', async () => {
    type HonoBundle = typeof import('@plangate/hono') & typeof import('hono')
    const { Hono, requirePlan, createPlanGate } = (await import(/* @vite-ignore */ pathToFileURL(bundles.hono.file).href)) as HonoBundle
    const { createLocalLedger } = (await import(/* @vite-ignore */ pathToFileURL(bundles.local.file).href)) as typeof import('@plangate/core/local')
    const ledger = createLocalLedger()
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 10 })
    const planId = ledger.createPlan({ credits: 3, price: 10, owner: owner.address })
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
    const app = new Hono()
    app.get('/paid', requirePlan(planId, { gate }), (c) => c.json(c.get('balance')))
    const paid = await app.request('/paid', { headers: { Authorization: `Bearer ${alice.apiKey}` } })
    expect(paid.status).toBe(200)
    expect(paid.headers.get('x-credits-remaining')).toBe('2')
    expect((await app.request('/paid')).status).toBe(401)
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(1)
  })
})
