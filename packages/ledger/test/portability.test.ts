import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The ledger must run unchanged on workerd, Deno and Bun (SPEC §1): Web APIs only. Not its
// command (cli.ts and cli/), which serves it with node:http and runs on node only.
const dir = fileURLToPath(new URL('../src/', import.meta.url))
const sources = readdirSync(dir).filter((name) => name.endsWith('.ts') && name !== 'cli.ts')

describe('local ledger sources', () => {
  it('exist', () => {
    expect(sources).toContain('index.ts')
    expect(sources).toContain('ledger.ts')
    expect(sources.length).toBeGreaterThan(3)
  })

  it.each(sources)('%s uses no Node module or Node global', (name) => {
    // Comments may mention Node; the code may not.
    const code = readFileSync(dir + name, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/(^|[^:])\/\/.*$/gm, '$1')
    expect(code).not.toMatch(/from\s+['"]node:|require\(|import\(\s*['"]node:/)
    expect(code).not.toMatch(/\b(Buffer|process|global|__dirname|setImmediate)\b/)
  })
})
