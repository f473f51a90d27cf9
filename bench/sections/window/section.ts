/** `--only window`: settle.batchMs (and maxCredits) against upstream calls per request and credits served but not yet settled. */
import { frameworks, loadLength, number, type SectionContext } from '../../lib/context'
import { measureWindows, windowSettings, windowTable } from './window'

export async function window(context: SectionContext): Promise<string[]> {
  const { flags, quick, rounds, log, problems, results, taken } = context
  const holderCounts = flags.holders ? flags.holders.split(',').map(Number) : quick ? [4] : [100, 10_000]
  const delayMs = flags.delays ? Number(flags.delays.split(',')[0]) : quick ? 0 : 40
  // A window of 5 s needs a run of several to show its steady state.
  const duration = number(flags.duration, 10)
  const framework = frameworks(context)[0] === 'express' && flags.framework ? 'express' : 'hono'
  const settings = windowSettings(quick)
  const measured = await measureWindows({ framework, holderCounts, settings, delayMs, rounds, ...loadLength(context), duration }, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  if (measured.length > 0) results.window = { provenance: taken, results: measured }
  return [
    `## Choosing a window: calls per request against credits served and not yet settled (${framework === 'express' ? 'Express 5' : 'Hono'}, API key, constant route, the API ${delayMs} ms away, ${rounds} rounds of ${quick ? 'a few hundred requests' : `${duration} s`})`,
    '',
    windowTable(measured),
    '',
  ]
}
