/**
 * `--compare <git ref or directory>`: a copy of the packages at that ref (or in that directory)
 * next to a copy of this harness, so the same benchmarks run against both in one session
 * (alternating, like the bare/guarded pairs).
 * Lives in the system's temporary directory (out of reach of the repository's lint, type-check and
 * test globs); node_modules are symlinks into this checkout's.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, resolve } from 'node:path'
import { BENCH_DIR } from './processes'

const ROOT = `${BENCH_DIR}..`

export interface Baseline {
  /** The copy's bench/ directory. */
  benchDir: string
  /** The ref and its commit, for the report. */
  label: string
}

/** `source`: a git ref, or a directory holding a `packages/` tree (e.g. a copy of a working tree). */
export function prepareBaseline(source: string, options: { build?: boolean } = {}): Baseline {
  let label: string
  let dir: string
  if (existsSync(`${source}/packages`)) {
    label = basename(resolve(source))
    dir = `${tmpdir()}/plangate-bench-baseline-${label}`
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    cpSync(`${source}/packages`, `${dir}/packages`, { recursive: true, filter: (path) => !path.includes('node_modules') && !path.includes('/dist') })
  } else {
    const commit = execFileSync('git', ['rev-parse', '--verify', `${source}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim()
    label = commit.startsWith(source) ? source : `${source} ${commit.slice(0, 7)}`
    dir = `${tmpdir()}/plangate-bench-baseline-${commit.slice(0, 12)}`
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true })
      execFileSync('sh', ['-c', `git archive ${commit} packages | tar -x -C "${dir}"`], { cwd: ROOT })
    }
  }
  if (!existsSync(`${dir}/node_modules`)) {
    symlinkSync(`${ROOT}/node_modules`, `${dir}/node_modules`)
    for (const name of readdirSync(`${ROOT}/packages`)) {
      // Relative links into ../../node_modules/.pnpm, which the symlink above serves. Only for the
      // packages the baseline has: an older ref may predate one (@plangate/node).
      if (existsSync(`${dir}/packages/${name}`) && existsSync(`${ROOT}/packages/${name}/node_modules`)) cpSync(`${ROOT}/packages/${name}/node_modules`, `${dir}/packages/${name}/node_modules`, { recursive: true, verbatimSymlinks: true })
    }
  }
  if (options.build) {
    // tsup with each package's own config, as `pnpm build` does.
    cpSync(`${ROOT}/tsconfig.base.json`, `${dir}/tsconfig.base.json`)
    for (const name of readdirSync(`${dir}/packages`)) {
      execFileSync(process.execPath, [`${ROOT}/node_modules/tsup/dist/cli-default.js`], { cwd: `${dir}/packages/${name}`, stdio: 'ignore' })
    }
  }
  // The harness itself is always this one, so only the packages differ. Copied afresh: a link of
  // the last copy may point at a package the baseline does not have, which cpSync cannot overwrite.
  rmSync(`${dir}/bench`, { recursive: true, force: true })
  mkdirSync(`${dir}/bench`, { recursive: true })
  for (const entry of readdirSync(BENCH_DIR)) {
    if (entry === 'results') continue
    cpSync(`${BENCH_DIR}${entry}`, `${dir}/bench/${entry}`, { recursive: true, verbatimSymlinks: true, force: true })
  }
  return { benchDir: `${dir}/bench`, label }
}
