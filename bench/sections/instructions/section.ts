/** `--only instructions`: instructions per request under valgrind's callgrind (slow, so not in the default run). */
import { frameworks, type SectionContext } from '../../lib/context'
import { hasCallgrind, measureInstructions, type InstructionServer } from './instructions'
import { instructionTable } from './report'

export async function instructions(context: SectionContext): Promise<string[]> {
  const { quick, baseline, log, problems } = context
  if (!hasCallgrind()) {
    problems.push('instructions: valgrind is not installed (apt-get install -y valgrind)')
    return []
  }
  log('instructions: counting under callgrind (slow)')
  const servers: InstructionServer[] = [
    { label: 'bare', role: 'bare' },
    ...(quick ? [] : [{ label: 'bare + no-op async middleware', role: 'noop' as const }]),
    { label: 'bare + floor middleware', role: 'floor' },
    { label: 'guarded', role: 'guarded' },
    ...(quick ? [] : [{ label: 'guarded, headers: false', role: 'guarded, no headers' as const }]),
    ...(baseline ? [{ label: `guarded (${baseline.label})`, role: 'guarded' as const, benchDir: baseline.benchDir }] : []),
    { label: 'guarded, immediate settlement', role: 'guarded, immediate settlement' },
    ...(baseline ? [{ label: `guarded, immediate settlement (${baseline.label})`, role: 'guarded, immediate settlement' as const, benchDir: baseline.benchDir }] : []),
    ...(quick
      ? []
      : [
          { label: 'guarded, immediate settlement, ledger over HTTP via fetch', role: 'guarded, immediate settlement' as const, overHttp: 'fetch' as const },
          { label: 'guarded, immediate settlement, ledger over HTTP via createNodeFetch', role: 'guarded, immediate settlement' as const, overHttp: 'node' as const },
        ]),
  ]
  const results = await measureInstructions(
    {
      frameworks: frameworks(context),
      servers,
      warmup: quick ? 500 : 6_000,
      requests: quick ? 300 : 3_000,
    },
    log,
  ).catch((error: unknown) => {
    problems.push(String(error))
    return []
  })
  return ['## Instructions per request (callgrind)', '', instructionTable(results), '']
}
