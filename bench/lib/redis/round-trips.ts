/**
 * Round trips to Redis, from `INFO commandstats` deltas. Redis counts there both what clients send
 * and what scripts run inside (each `redis.call`), so a round trip is a call of a command no
 * script of @plangate/redis runs: EVALSHA, EVAL, SCRIPT, … TIME, which the store sends once to
 * read Redis's clock (and again after a failure) but its scripts run too, is counted as script
 * work: on a warm run the store sends none.
 *
 * The split by script comes from the servers themselves (bench/lib/redis/store.ts counts what its
 * client sends, EVALSHA by the script its SHA names): Redis's stats do not tell scripts apart.
 */
import { createHash } from 'node:crypto'
// The scripts are not exported by @plangate/redis: the bench reads them from its source.
import { SCRIPTS } from '../../../packages/redis/src/script-set'

/** Commands the store's scripts run inside Redis (lower case). */
export const SCRIPT_COMMANDS: ReadonlySet<string> = new Set(
  Object.values(SCRIPTS).flatMap((source) => [...source.matchAll(/redis\.p?call\(\s*'([A-Za-z]+)'/g)].map((match) => match[1]!.toLowerCase())),
)

/** Each script's name by its SHA-1 (the SHA that SCRIPT LOAD answers and EVALSHA names). */
export const SCRIPT_NAMES: ReadonlyMap<string, string> = new Map(Object.entries(SCRIPTS).map(([name, source]) => [createHash('sha1').update(source).digest('hex'), name]))

export function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, n] of Object.entries(after)) {
    const d = n - (before[name] ?? 0)
    if (d !== 0) out[name] = d
  }
  return out
}

export interface RedisCommands {
  /** Commands clients sent (round trips). */
  roundTrips: number
  /** Of those, by command. */
  sent: Record<string, number>
  /** Commands the scripts ran inside Redis (and TIME). */
  inScripts: number
}

export function classify(stats: Record<string, number>): RedisCommands {
  const sent: Record<string, number> = {}
  let roundTrips = 0
  let inScripts = 0
  for (const [name, n] of Object.entries(stats)) {
    if (SCRIPT_COMMANDS.has(name)) inScripts += n
    else {
      sent[name] = n
      roundTrips += n
    }
  }
  return { roundTrips, sent, inScripts }
}
