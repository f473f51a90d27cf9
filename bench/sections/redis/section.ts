/** `--only redis`: plangate on the Redis store beside the memory store and bare, and a burst across processes on one Redis. */
import { loadLength, number, type SectionContext } from '../../lib/context'
import { redisSection } from './measure'

export async function redis(context: SectionContext): Promise<string[]> {
  const { flags, quick, rounds, batchMs, log, problems } = context
  const delays = (flags.delays ?? (quick ? '0' : '0,40')).split(',').map(Number)
  const holders = number(flags.holders, quick ? 4 : 100)
  const options = { delays, holders, rounds, batchMs, burst: quick ? { requests: 100, credits: 25 } : { requests: 200, credits: 25 }, ...loadLength(context) }
  return redisSection(options, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
}
