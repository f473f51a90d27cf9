/**
 * Choosing a window: what `settle.batchMs` (and `settle.maxCredits`) costs in money at risk
 * against what it saves in upstream calls. plangate on the peer benchmark's load (autocannon,
 * every holder active, the stand-in API `delayMs` away), one server per setting, each measured in
 * turn, in an order that alternates round by round: upstream calls per request (counted by the
 * stand-in) and the credits served but not yet settled at random moments (lib/peers/pending.ts).
 */
import { checkRun, drainMs, measureOnce, peerConfig, quiet, warm, type PeerRow, type PeerRun, type Running } from '../../lib/peers/harness'
import { headersFor } from '../../lib/peers/credentials'
import type { PeerKind } from '../../lib/peers/protocol'
import type { PendingSample } from '../../lib/peers/pending'
import { spawnChild, type Child } from '../../lib/processes'
import type { Framework } from '../../lib/protocol'
import { median, table } from '../../lib/report'

export interface WindowSetting {
  label: string
  /** 0: immediate settlement. */
  batchMs: number
  maxCredits?: number
}

export interface WindowRun extends PeerRun {
  pending: PendingSample
}

export interface WindowResult {
  framework: Framework
  holders: number
  delayMs: number
  setting: WindowSetting
  runs: WindowRun[]
}

export interface WindowOptions {
  framework: Framework
  holderCounts: number[]
  settings: WindowSetting[]
  delayMs: number
  rounds: number
  duration: number
  amount?: number
  warmupSeconds: number
  connections: number
}

/** The fixed windows, and the rule (a batch also goes once it holds `maxCredits`). */
export function windowSettings(quick: boolean): WindowSetting[] {
  const fixed = (batchMs: number): WindowSetting => ({ label: batchMs === 0 ? 'immediate' : `batchMs ${batchMs}`, batchMs })
  const rule = (batchMs: number, maxCredits: number): WindowSetting => ({ label: `batchMs ${batchMs}, maxCredits ${maxCredits}`, batchMs, maxCredits })
  if (quick) return [fixed(0), fixed(250), rule(1000, 5)]
  return [fixed(0), fixed(100), fixed(250), fixed(1000), fixed(5000), rule(1000, 10), rule(5000, 10)]
}

export async function measureWindows(options: WindowOptions, log: (line: string) => void, problems: string[]): Promise<WindowResult[]> {
  const results: WindowResult[] = []
  for (const holders of options.holderCounts) {
    const upstream = await spawnChild('lib/peers/upstream.ts', { holders, delayMs: options.delayMs, tokens: false })
    const servers: Child[] = []
    try {
      log(`window: ${options.framework}, ${holders} holders, ${options.settings.length} settings`)
      const group = { framework: options.framework, delayMs: options.delayMs, route: 'const' as const, cpuIterations: 0 }
      const running: { setting: WindowSetting; one: Running; runs: WindowRun[] }[] = []
      for (const setting of options.settings) {
        const row: PeerRow = { label: setting.label, peer: kindOf(setting), credential: 'key' }
        const config = { ...peerConfig(group, row.peer, upstream.ready, { holders, batchMs: setting.batchMs }), ...(setting.maxCredits ? { maxCredits: setting.maxCredits } : {}) }
        const server = await spawnChild('lib/peers/server.ts', config)
        servers.push(server)
        const one: Running = { series: { row, runs: [] }, server, headers: headersFor('key', upstream.ready, []) }
        await warm(one, options)
        running.push({ setting, one, runs: [] })
      }
      await quiet(upstream, drainMs('plangate-batched', options.delayMs, Math.max(...options.settings.map((s) => s.batchMs))), options.delayMs)
      for (let round = 0; round < options.rounds; round++) {
        for (const { setting, one, runs } of round % 2 === 0 ? running : [...running].reverse()) {
          const settings = { ...options, holders, batchMs: setting.batchMs }
          const measured = await measureOnce(one, upstream, options.delayMs, settings, true)
          const run: WindowRun = { ...measured, pending: measured.pending ?? { mean: 0, max: 0, samples: 0 } }
          runs.push(run)
          log(
            `  round ${round + 1} ${setting.label.padEnd(30)} ${run.requestsPerSecond.toFixed(0).padStart(6)} req/s  ${run.callsPerRequest.toFixed(4)} calls/req  ${run.pending.mean.toFixed(1)} credits pending`,
          )
          // A batch that reaches maxCredits goes before its window ends: more than one settle per
          // holder per window is what the rule does, so those rows are held to immediate's bound.
          const checked: PeerRow = setting.maxCredits ? { ...one.series.row, peer: 'plangate-immediate' } : one.series.row
          problems.push(...checkRun(group, checked, run, settings).map((p) => p.replace(/^peers:/, 'window:')))
          if (run.pending.samples === 0) problems.push(`window: ${holders} holders, ${setting.label}: no sample of the pending credits`)
        }
      }
      for (const { setting, runs } of running) results.push({ framework: options.framework, holders, delayMs: options.delayMs, setting, runs })
    } finally {
      await Promise.all(servers.map((server) => server.close()))
      await upstream.close()
    }
  }
  return results
}

const kindOf = (setting: WindowSetting): PeerKind => (setting.batchMs === 0 ? 'plangate-immediate' : 'plangate-batched')

const spread = (values: number[], digits: number) => `**${median(values).toFixed(digits)}** (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`

/** Per setting: calls per request, and what is at risk (credits, and seconds of what the server serves). */
export function windowTable(results: WindowResult[]): string {
  const rows = results.map((r) => {
    const perSecond = r.runs.map((run) => run.requestsPerSecond)
    const seconds = r.runs.map((run) => (run.requestsPerSecond > 0 ? run.pending.mean / run.requestsPerSecond : 0))
    return [
      r.holders.toLocaleString('en-US'),
      r.setting.label,
      Math.round(median(perSecond)).toLocaleString('en-US'),
      spread(
        r.runs.map((run) => run.callsPerRequest),
        4,
      ),
      spread(
        r.runs.map((run) => run.pending.mean),
        1,
      ),
      spread(seconds, 3),
      Math.round(median(r.runs.map((run) => run.pending.max))).toLocaleString('en-US'),
    ]
  })
  return table(
    [
      'holders active',
      'settlement',
      'req/s',
      'upstream calls/req (min–max)',
      'credits served, not yet settled: mean (min–max)',
      'the same in seconds of serving (mean ÷ req/s)',
      'most seen',
    ],
    rows,
  )
}
