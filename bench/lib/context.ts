/**
 * What bench/run.ts hands every section: the flags and what follows from them, the `--compare`
 * baseline, and where a section reports its problems and the results the charts are drawn from.
 * A section returns the lines of its part of the report.
 */
import type { BenchResults, Provenance } from '../charts/results'
import type { Baseline } from './baseline'
import type { Flags } from './flags'
import type { Framework } from './protocol'

export interface SectionContext {
  flags: Flags
  quick: boolean
  rounds: number
  batchMs: number
  baseline: Baseline | undefined
  /** Progress, to stderr. */
  log: (line: string) => void
  /** Anything that means the harness or plangate is broken: the run exits non-zero. */
  problems: string[]
  /** What the charts are drawn from (bench/charts/), section by section. */
  results: BenchResults
  /** The command and commit behind this run's results. */
  taken: Provenance
}

export type Section = (context: SectionContext) => Promise<string[]>

/** The label of this checkout's row beside a `--compare` baseline's. */
export const THIS = 'this checkout'

/** A numeric flag, or its default. */
export const number = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value))

/** `--framework`, or both. */
export const frameworks = ({ flags }: SectionContext): Framework[] => (flags.framework ? [flags.framework as Framework] : ['express', 'hono'])

/** How long each server is loaded, as the peer-server sections share it. */
export const loadLength = ({ flags, quick }: SectionContext) => ({
  duration: number(flags.duration, 5),
  ...(quick ? { amount: 200 } : {}),
  warmupSeconds: quick ? 0 : 1,
  connections: number(flags.connections, 32),
})
