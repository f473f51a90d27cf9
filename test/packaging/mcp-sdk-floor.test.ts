/**
 * @plangate/mcp on the oldest @modelcontextprotocol/sdk its peer range admits, as a user gets
 * it: @plangate/core and @plangate/mcp packed by pnpm, installed with npm outside the workspace
 * next to that SDK from the registry, then mcp-consumer/scenario.mjs serves a paid tool with the
 * stateless Node helper and calls it with that SDK's own client. The workspace's own tests run
 * the SDK of its devDependency, the newest. Needs the builds (a missing or stale dist/ is
 * rebuilt) and the npm registry.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { installApp, lockedPackages, manifest, packWorkspace, run } from './pack-install'

const PACKAGES = ['ledger', 'core', 'mcp'] as const
const SDK = '@modelcontextprotocol/sdk'

/** The lowest version `>=1.26 <2` (the peer range in packages/mcp/package.json) admits: 1.26.0. */
function floorOf(range: string | undefined): string {
  const lowest = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\s|$)/.exec(range ?? '')
  if (!lowest) throw new Error(`packages/mcp/package.json: expected a peer range on ${SDK} starting ">=x.y", got ${JSON.stringify(range)}`)
  return `${lowest[1]}.${lowest[2] ?? 0}.${lowest[3] ?? 0}`
}

const FLOOR = floorOf(manifest('mcp').peerDependencies?.[SDK])
const dir = mkdtempSync(join(tmpdir(), 'plangate-mcp-consumer-'))
const app = join(dir, 'app')

beforeAll(async () => {
  const tarballs = await packWorkspace(PACKAGES, dir)
  // zod: what the app's tool schemas are written with (also the SDK's peer).
  await installApp(app, fileURLToPath(new URL('./mcp-consumer', import.meta.url)), [...tarballs, `${SDK}@${FLOOR}`, 'zod@^4'])
}, 300_000) // packs two packages and installs them with the SDK and its dependencies from the registry

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe(`@plangate/mcp on ${SDK}@${FLOOR}, the oldest its peer range admits, installed with npm outside the workspace`, () => {
  it(`installs one ${SDK}, at ${FLOOR}, that @plangate/mcp shares with the app, and our tarballs`, () => {
    const locked = lockedPackages(app)
    const sdks = Object.entries(locked).filter(([path]) => path.endsWith(`node_modules/${SDK}`))
    expect(sdks.map(([path, entry]) => [path, entry.version])).toEqual([[`node_modules/${SDK}`, FLOOR]])
    for (const pkg of PACKAGES) expect(locked[`node_modules/@plangate/${pkg}`]?.resolved).toMatch(/^file:.*\.tgz$/)
  })

  it(`serves a paid tool with statelessHandler that ${SDK}@${FLOOR}'s Client calls: denied in band unpaid, charged with a key`, async () => {
    const outcome = JSON.parse((await run(process.execPath, ['scenario.mjs'], { cwd: app })).stdout)
    expect(outcome).toEqual({
      sdk: FLOOR,
      listed: [{ name: 'forecast', price: expect.objectContaining({ credits: 2 }) }],
      unpaid: { isError: true, x402Version: 2, error: 'CREDENTIAL_MISSING', accepts: expect.any(Number) },
      paid: { isError: false, text: 'sunny in Lima, 3 left' },
      ran: ['Lima'],
      balance: { before: 5, after: 3 },
      redeemed: 2,
    })
    expect(outcome.unpaid.accepts).toBeGreaterThan(0)
  }, 60_000)
})
