/** `--only calls` (--calls N): server CPU per upstream call, through plangate beside a bare fetch of the same request. */
import { number, type SectionContext } from '../../lib/context'
import { callsTable, checksTable, measureCalls } from './measure'

export async function calls({ flags, quick, rounds, log, problems }: SectionContext): Promise<string[]> {
  // Five rounds at least: CPU time per call on a shared machine varies from round to round.
  const options = { calls: number(flags.calls, quick ? 60 : 2_000), rounds: quick ? 1 : Math.max(5, rounds), concurrency: 4, holders: 8 }
  const result = await measureCalls(options, log).catch((error: unknown) => {
    problems.push(String(error))
    return undefined
  })
  return [
    `## Upstream calls: server CPU per call (${options.calls} calls of each, ${options.concurrency} in flight, ${options.rounds} rounds, the API answering at once)`,
    '',
    result ? callsTable(result.series) : '(not measured)',
    '',
    ...(result ? ['What checking an answer costs, the same answers in process:', '', checksTable(result.checks), ''] : []),
  ]
}
