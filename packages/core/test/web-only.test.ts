import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * `@plangate/core`, `@plangate/hono` and `@plangate/ledger` (whose library `@plangate/core/local`
 * re-exports; not its Node-only CLI) must run on workerd, Deno and Bun, `@plangate/cloudflare` on
 * workerd: Web APIs only. This
 * reads their sources as TypeScript (so comments and strings such as a JSDoc `process.env`
 * example do not count) and refuses:
 * - imports of Node built-ins (`node:*`, or a bare built-in name such as `crypto` or `fs`);
 * - `require(…)`;
 * - the `Buffer` global;
 * - the `process` global used directly (`process.env`, `process?.env`, `process['env']`). Reaching
 *   it through a `globalThis` guard — `globalThis.process`, `(globalThis as …).process` — is fine;
 *   only packages/core/src/env.ts may do even that.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const SCANNED = ['packages/core/src', 'packages/hono/src', 'packages/cloudflare/src', 'packages/ledger/src']
// The ledger's command (`npx @plangate/ledger`) serves it with node:http; only node runs it.
const NODE_ONLY = /^packages\/ledger\/src\/cli(\.ts$|\/)/
const ENV_FILE = 'packages/core/src/env.ts'
const NODE_BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith('_')))

interface Violation {
  file: string
  line: number
  what: string
}

function isNodeModule(specifier: string): boolean {
  return specifier.startsWith('node:') || NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split('/')[0]!)
}

/** The violations in one source text. */
function scan(file: string, text: string): Violation[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
  const found: Violation[] = []
  const report = (node: ts.Node, what: string) =>
    found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, what })

  const visit = (node: ts.Node): void => {
    // import … from 'x' / export … from 'x' / import x = require('x')
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      if (isNodeModule(node.moduleSpecifier.text)) report(node, `imports "${node.moduleSpecifier.text}"`)
    }
    if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      report(node, 'import = require(…)')
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      if (isNodeModule(node.argument.literal.text)) report(node, `import("${node.argument.literal.text}") type`)
    }
    if (ts.isCallExpression(node)) {
      // import('node:…')
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [arg] = node.arguments
        if (arg && ts.isStringLiteralLike(arg) && isNodeModule(arg.text)) report(node, `import("${arg.text}")`)
      }
      // require(…), in any form
      if (ts.isIdentifier(node.expression) && node.expression.text === 'require') report(node, 'require(…)')
    }
    if (ts.isIdentifier(node)) {
      const parent = node.parent
      // A property name (`x.process`, `{ process: … }`, `process?: …` in a type) is not the global.
      const isPropertyName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        ((ts.isPropertyAssignment(parent) || ts.isPropertySignature(parent) || ts.isPropertyDeclaration(parent) || ts.isMethodDeclaration(parent)) &&
          parent.name === node) ||
        (ts.isQualifiedName(parent) && parent.right === node)
      if (!isPropertyName && node.text === 'Buffer') report(node, 'Buffer')
      if (!isPropertyName && node.text === 'process') {
        const usedAsObject =
          ((ts.isPropertyAccessExpression(parent) || ts.isElementAccessExpression(parent)) && parent.expression === node) ||
          ts.isTypeQueryNode(parent)
        if (usedAsObject) report(node, 'process.')
      }
      if (!isPropertyName && node.text === 'require' && !ts.isCallExpression(parent)) report(node, 'require')
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

function sourcesUnder(dir: string): string[] {
  const absolute = join(ROOT, dir)
  if (!existsSync(absolute)) return []
  return readdirSync(absolute, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))
    .map((path) => join(dir, path))
    .filter((path) => !NODE_ONLY.test(path))
    .sort()
}

describe('Web-API-only sources', () => {
  it('the scanner catches each forbidden pattern and lets the guarded ones through', () => {
    const bad = [
      "import { createHash } from 'node:crypto'",
      'import { readFileSync } from "fs"',
      "export { x } from 'node:util'",
      "import type { Server } from 'node:http'",
      "const m = await import('node:fs')",
      "const c = require('crypto')",
      "import fs = require('fs')",
      'const e = process.env.NVM_API_KEY',
      'const e = process?.env',
      "const e = process['env']",
      'const b = Buffer.from("x")',
      'let t: typeof Buffer',
      'type P = typeof process',
      "type S = import('node:stream').Readable",
    ]
    for (const line of bad) expect(scan('bad.ts', line), line).toHaveLength(1)

    const fine = [
      "import { LRUCache } from 'lru-cache'",
      "import { z } from 'zod'",
      "import { x } from './fs'",
      'const proc = (globalThis as { process?: { env?: Record<string, string> } }).process',
      'const env = globalThis.process?.env',
      '// process.env.NVM_API_KEY and Buffer in a comment',
      '/** @example require("x"); process.exit() */ const y = 1',
      "const s = 'process.env is not read here; Buffer neither; node:crypto'",
      'const o = { process: 1, Buffer: 2 }; o.process; o.Buffer',
      'const url = `https://example.com/${1}`',
    ]
    for (const line of fine) expect(scan('fine.ts', line), line).toEqual([])
  })

  it('scans a non-trivial set of files', () => {
    const files = SCANNED.flatMap(sourcesUnder)
    expect(files).toContain('packages/core/src/client.ts')
    expect(files).toContain('packages/ledger/src/ledger.ts')
    expect(files).toContain('packages/core/src/local/index.ts')
    expect(files).not.toContain('packages/ledger/src/cli.ts')
    expect(files).toContain(ENV_FILE)
    expect(files.length).toBeGreaterThan(20)
  })

  it.each(SCANNED.filter((dir) => existsSync(join(ROOT, dir))))('%s uses no Node-only API', (dir) => {
    const violations = sourcesUnder(dir)
      .filter((file) => file !== ENV_FILE)
      .flatMap((file) => scan(file, readFileSync(join(ROOT, file), 'utf8')))
    expect(violations.map((v) => `${v.file}:${v.line} ${v.what}`)).toEqual([])
  })

  it('env.ts reaches process only through globalThis', () => {
    const text = readFileSync(join(ROOT, ENV_FILE), 'utf8')
    expect(scan(ENV_FILE, text)).toEqual([])
    expect(text).toMatch(/globalThis[^\n]*\)\.process/)
  })
})
