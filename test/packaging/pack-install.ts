/**
 * What the packaging tests share: the workspace's packages packed as a user gets them (by pnpm,
 * which turns `workspace:^` into versions) and installed with npm into an app outside the
 * workspace. Needs the builds (a missing or stale dist/ is rebuilt here) and the npm registry.
 */
import { execFile, spawnSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const run = promisify(execFile)

/** The workspace's root directory. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A workspace package's package.json, e.g. `manifest('mcp').peerDependencies`. */
export function manifest(pkg: string): { version: string; peerDependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8'))
}

/** pnpm as this test run was started (`pnpm test` sets npm_execpath), else from PATH, else npx. */
function pnpm(args: string[], cwd: string) {
  const execpath = process.env.npm_execpath
  if (execpath && /pnpm/.test(execpath)) return run(process.execPath, [execpath, ...args], { cwd })
  if (spawnSync('pnpm', ['--version']).status === 0) return run('pnpm', args, { cwd })
  const { packageManager } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { packageManager: string }
  return run('npx', ['-y', packageManager, ...args], { cwd })
}

function newestMtime(dir: string): number {
  return Math.max(...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) => statSync(join(dir, file)).mtimeMs))
}

/** A package's dist/ is missing or older than its sources. */
function stale(pkg: string): boolean {
  const built = join(ROOT, 'packages', pkg, 'dist/index.js')
  return !existsSync(built) || statSync(built).mtimeMs < newestMtime(join(ROOT, 'packages', pkg, 'src'))
}

/**
 * Packs `packages` (directory names under packages/) into `dir`, building the workspace first if
 * any of them is not built from its current sources; resolves to the tarballs' paths.
 *
 * @example const tarballs = await packWorkspace(['core', 'mcp'], dir)
 */
export async function packWorkspace(packages: readonly string[], dir: string): Promise<string[]> {
  if (packages.some(stale)) await pnpm(['build'], ROOT)
  const tarballs: string[] = []
  for (const pkg of packages) {
    await pnpm(['pack', '--pack-destination', dir], join(ROOT, 'packages', pkg))
    tarballs.push(join(dir, `plangate-${pkg}-${manifest(pkg).version}.tgz`))
  }
  return tarballs
}

/**
 * Makes an ES module app in `app` from the files of `template` (a directory) and npm-installs
 * `specs` there (tarballs and registry specs), from npm's cache where it can.
 *
 * @example await installApp(join(dir, 'app'), fileURLToPath(new URL('./consumer', import.meta.url)), [...tarballs, 'hono@4.7.7'])
 */
export async function installApp(app: string, template: string, specs: readonly string[]): Promise<void> {
  cpSync(template, app, { recursive: true })
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], { cwd: app })
}

/** The app's package-lock.json entries, by path (`node_modules/hono`). */
export function lockedPackages(app: string): Record<string, { resolved?: string; version?: string }> {
  return (JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; version?: string }> }).packages
}
