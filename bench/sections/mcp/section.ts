/** `--only mcp` (--delays): a warm paid MCP tool call beside the same tool unpaid and Nevermined's paywall pattern. */
import { number, type SectionContext } from '../../lib/context'
import { mcpTable, measureMcp } from './measure'

export async function mcp({ flags, quick, rounds, batchMs, log, problems }: SectionContext): Promise<string[]> {
  const delays = (flags.delays ?? (quick ? '0' : '0,40')).split(',').map(Number)
  const concurrency = number(flags.connections, 16)
  const options = {
    delays,
    rounds,
    concurrency,
    holders: number(flags.holders, 16),
    batchMs,
    ...(quick ? { amount: 300 } : { durationMs: number(flags.duration, 5) * 1_000 }),
    warmupCalls: quick ? 50 : 500,
  }
  const groups = await measureMcp(options, log, problems).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return [
    `## MCP: a warm paid tool call over Streamable HTTP (Express 5, stateless, ${concurrency} in flight, ${rounds} rounds, the API ${delays.join(' or ')} ms away, batch window ${batchMs} ms)`,
    '',
    groups.length > 0 ? mcpTable(groups) : '(not measured)',
    '',
  ]
}
