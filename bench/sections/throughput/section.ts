/** `--only throughput`: bare, floor and guarded servers per framework and variant (--framework, --upstream, --settle, --route). */
import { frameworks, number, type SectionContext } from '../../lib/context'
import { BENCH_DIR } from '../../lib/processes'
import { throughputTable } from './report'
import { measureThroughput, VARIANTS } from './throughput'

export async function throughput(context: SectionContext): Promise<string[]> {
  const { flags, quick, rounds, batchMs, baseline, log, problems } = context
  const subscribers = number(flags.subscribers, 100)
  const results = await measureThroughput(
    {
      frameworks: frameworks(context),
      variants: VARIANTS.filter(
        (v) => (flags.upstream ?? v.upstream) === v.upstream && (flags.settle ?? v.settle) === v.settle && (flags.route ?? v.route) === v.route,
      ),
      rounds,
      duration: number(flags.duration, 5),
      ...(quick ? { amount: 300 } : {}),
      warmupSeconds: quick ? 0 : 2,
      connections: number(flags.connections, 32),
      subscribers,
      batchMs,
      ...(baseline ? { baseline } : {}),
      ...(flags.profile ? { profileDir: `${BENCH_DIR}results/profiles` } : {}),
    },
    log,
  ).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return [`## Throughput and latency (${subscribers} subscribers, ${rounds} rounds)`, '', throughputTable(results, batchMs), '']
}
