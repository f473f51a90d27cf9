/** `pnpm bench`'s command line (bench/run.ts lists what each flag does). */
import { parseArgs } from 'node:util'

/** Every section `--only` can name, in the order a run measures them; all but instructions by default. */
export const DEFAULT_SECTIONS = 'peers,scale,window,redis,calls,mcp,throughput,workloads,memory,micro,usage,allocation'

/** Parses `process.argv`; `BENCH_QUICK=1` is `--quick`. */
export function parseFlags() {
  return parseArgs({
    options: {
      quick: { type: 'boolean', default: process.env.BENCH_QUICK === '1' },
      only: { type: 'string', default: DEFAULT_SECTIONS },
      calls: { type: 'string' },
      delays: { type: 'string' },
      routes: { type: 'string' },
      holders: { type: 'string' },
      framework: { type: 'string' },
      upstream: { type: 'string' },
      settle: { type: 'string' },
      route: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      subscribers: { type: 'string' },
      'batch-ms': { type: 'string' },
      compare: { type: 'string' },
      profile: { type: 'boolean', default: false },
      dist: { type: 'boolean', default: false },
      'charts-only': { type: 'boolean', default: false },
      charts: { type: 'string' },
    },
  }).values
}

export type Flags = ReturnType<typeof parseFlags>
