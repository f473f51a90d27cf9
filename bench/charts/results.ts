/**
 * The bench's results as JSON: what the charts (./render.ts) are drawn from. A full run writes
 * the sections it measured into `bench/charts/results.json` (committed beside the charts), keeping
 * the sections it did not measure, so every chart says which command and commit its figures
 * come from; `--charts-only` draws the charts again from that file without measuring.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import type { PeerGroup } from '../lib/peers/harness'
import type { ScaleResult } from '../sections/scale/scale'
import { BENCH_DIR } from '../lib/processes'
import type { WindowResult } from '../sections/window/window'

/** Where a section's figures come from: enough to run it again. */
export interface Provenance {
  /** `pnpm bench` and its flags. */
  command: string
  /** The commit measured (short hash), with `+dirty` when the checkout had uncommitted changes. */
  commit: string
  /** ISO date of the run. */
  date: string
  machine: string
  /** The machine's 1-minute load average when the run began (os.loadavg): above its cores, other work shared them. */
  loadAverage?: number
  quick: boolean
}

export interface Section<T> {
  provenance: Provenance
  results: T
}

export interface BenchResults {
  peers?: Section<PeerGroup[]>
  scale?: Section<ScaleResult[]>
  window?: Section<WindowResult[]>
}


export const CHARTS_DIR = `${BENCH_DIR}charts`

export function provenance(argv: string[], quick: boolean): Provenance {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: BENCH_DIR, encoding: 'utf8' }).trim()
  let commit = 'unknown'
  try {
    commit = git('rev-parse', '--short', 'HEAD')
    if (git('status', '--porcelain', '--untracked-files=no') !== '') commit += '+dirty'
  } catch {
    // Not a git checkout (a tarball): the figures still say when and how they were taken.
  }
  return {
    command: ['pnpm bench', ...argv].join(' '),
    commit,
    date: new Date().toISOString(),
    machine: `${cpus()[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`,
    loadAverage: Math.round(loadavg()[0]! * 10) / 10,
    quick,
  }
}

export function readResults(path: string): BenchResults {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as BenchResults) : {}
}

/** The sections of `update` replace those of the file at `path`; the others are kept. */
export function mergeResults(path: string, update: BenchResults): BenchResults {
  const merged = { ...readResults(path), ...update }
  writeFileSync(path, `${JSON.stringify(merged, null, 1)}\n`)
  return merged
}
