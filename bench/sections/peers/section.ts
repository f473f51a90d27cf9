/** `--only peers` (--delays, --routes, --holders): plangate beside the other middlewares, against one stand-in API. */
import { frameworks, loadLength, number, type SectionContext } from '../../lib/context'
import type { PeerRoute } from '../../lib/peers/protocol'
import { measurePeers } from './measure'
import { callBreakdown, peerTable } from './report'

export async function peers(context: SectionContext): Promise<string[]> {
  const { flags, quick, rounds, batchMs, log, problems, results, taken } = context
  const delays = (flags.delays ?? (quick ? '0' : '0,40')).split(',').map(Number)
  const routes = (flags.routes ?? (quick ? 'const' : 'const,cpu,wait')).split(',') as PeerRoute[]
  const holders = number(flags.holders, quick ? 4 : 100)
  const groups = await measurePeers({ frameworks: frameworks(context), delays, routes, rounds, holders, batchMs, ...loadLength(context) }, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  if (groups.length > 0) results.peers = { provenance: taken, results: groups }
  return [
    `## Peers: what each middleware adds, the API ${delays.join(' or ')} ms away (${holders} holders, ${rounds} rounds, batch window ${batchMs} ms)`,
    '',
    peerTable(groups),
    '',
    callBreakdown(groups),
    '',
  ]
}
