/** `--only scale`: plangate batched against bare as the holders active at once grow. */
import { frameworks, loadLength, type SectionContext } from '../../lib/context'
import { scaleTable } from './report'
import { measureScale } from './scale'

export async function scale(context: SectionContext): Promise<string[]> {
  const { quick, rounds, batchMs, log, problems, results, taken } = context
  const holderCounts = quick ? [1, 100] : [1, 100, 10_000]
  const delayMs = quick ? 0 : 40
  const measured = await measureScale({ frameworks: frameworks(context), holderCounts, delayMs, rounds, batchMs, ...loadLength(context) }, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  if (measured.length > 0) results.scale = { provenance: taken, results: measured }
  return [
    `## Scale: holders active at once (plangate batched, API key, the API ${delayMs} ms away, ${rounds} rounds)`,
    '',
    scaleTable(measured),
    '',
    'Several processes sharing balances through the Redis store: the Redis section (`--only redis`).',
    '',
  ]
}
