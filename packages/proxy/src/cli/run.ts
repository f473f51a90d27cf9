import { createPlanGate, type PlanGate, type PlanGateOptions } from '@plangate/core'
import { normalizePlanId, parseApiKey } from '@plangate/core/adapter'
import type { LocalLedger } from '@plangate/core/local'
import { upstreamBase } from '../options'
import { compileRoutes, type RouteCost } from '../routes'
import { startProxy, type RunningProxy } from '../start'
import { parseFlags, type Flags } from './argv'
import { readConfigFile, type ConfigFile } from './config-file'
import { HELP } from './help'
import { LOCAL_FUNDS, LOCAL_PLAN, localSetup, tryCommand } from './local'
import { UsageError } from './usage-error'

export interface CliOutput {
  log(line: string): void
  error(line: string): void
}

/** A proxy the command started, and what it needs to say when it stops. */
export interface Started {
  proxy: RunningProxy
  planId: string
  /** On `--local`: the ledger, whose redemptions are the proof of what was charged. */
  ledger: LocalLedger | undefined
}

/**
 * The command, without the process around it (cli.ts adds signals and exit codes): read the
 * flags, the config file and the environment, start the proxy, print how to use it. Resolves
 * undefined after `--help` or `--version`; a mistake of the user's is a {@link UsageError}.
 */
export async function run(argv: string[], env: NodeJS.ProcessEnv, out: CliOutput, version: string): Promise<Started | undefined> {
  const flags = parseFlags(argv)
  if (flags.help) return void out.log(HELP)
  if (flags.version) return void out.log(version)
  const file = flags.config ? readConfigFile(flags.config) : {}
  const from = (key: keyof Flags & keyof ConfigFile, flag: string) => (flags[key] !== undefined ? flag : `${flags.config} key "${key}"`)

  const environment = flags.environment ?? file.environment ?? (env.NVM_ENVIRONMENT || undefined)
  const local = environment === 'local'
  if (environment !== undefined) checkEnvironment(environment, flags.environment !== undefined ? '--environment' : file.environment !== undefined ? `${flags.config} key "environment"` : 'NVM_ENVIRONMENT')

  const upstreamValue = flags.upstream ?? file.upstream
  if (upstreamValue === undefined) throw new UsageError('--upstream is required: the URL of the API to charge for, e.g. --upstream http://127.0.0.1:8080.')
  const upstream = checked(() => upstreamBase(upstreamValue, from('upstream', '--upstream')))

  // Flags first: a route given on the command line replaces the file's route of the same key.
  const fileRoutes = file.routes ?? {}
  const flagRoutes = flags.routes ?? {}
  const defaultCost = flags.defaultCost ?? file.defaultCost ?? 1
  checked(() => compileRoutes(fileRoutes, defaultCost, `${flags.config} key "routes"`))
  checked(() => compileRoutes(flagRoutes, defaultCost, '--route'))
  const routes = { ...flagRoutes, ...Object.fromEntries(Object.entries(fileRoutes).filter(([key]) => !(key in flagRoutes))) }

  const gateOptions: Partial<PlanGateOptions> = { ...(file.gate as Partial<PlanGateOptions> | undefined) }
  if (flags.batchMs !== undefined) gateOptions.settle = { ...gateOptions.settle, batchMs: flags.batchMs }
  if (flags.autoOrder === false) gateOptions.autoOrder = false
  const gateSource = flags.config ? `${flags.config} key "gate"` : 'the gate options'

  let gate: PlanGate
  let planId: string
  let ledger: LocalLedger | undefined
  let subscriberKey: string | undefined
  const planValue = flags.plan ?? file.plan ?? (env.NVM_PLAN_ID || undefined)
  if (local) {
    if (env.NVM_API_KEY) out.error('plangate-proxy: NVM_API_KEY is ignored: --local runs on an embedded ledger with keys of its own.')
    const setup = checked(() => localSetup(gateOptions), gateSource)
    if (planValue !== undefined && normalizePlanIdOr(planValue) !== setup.planId) {
      out.error(`plangate-proxy: plan ${String(planValue)} is not used: the embedded ledger sells plan ${setup.planId}.`)
    }
    ;({ gate, planId, ledger, subscriberKey } = setup)
  } else {
    if (planValue === undefined) throw new UsageError('--plan is required: the id of the Nevermined plan callers pay with (or NVM_PLAN_ID); --local tries it without one.')
    planId = checked(() => normalizePlanId(planValue), flags.plan !== undefined ? '--plan' : file.plan !== undefined ? `${flags.config} key "plan"` : 'NVM_PLAN_ID')
    if (!env.NVM_API_KEY) {
      throw new UsageError("NVM_API_KEY is not set: export your agent's Nevermined API key (the plan owner's), or run with --local to try the proxy on an embedded ledger.")
    }
    try {
      parseApiKey(env.NVM_API_KEY)
    } catch {
      throw new UsageError('NVM_API_KEY is not a Nevermined API key: expected nvm:<jwt>, sandbox:<jwt> or live:<jwt> (Settings > API Keys on nevermined.app).')
    }
    gate = checked(() => createPlanGate({ ...gateOptions, apiKey: env.NVM_API_KEY, ...(environment ? { environment } : {}) }), gateSource)
  }

  let proxy: RunningProxy
  try {
    proxy = await startProxy({
      plan: planId,
      upstream,
      routes,
      defaultCost,
      gate,
      port: flags.port ?? file.port ?? 3000,
      host: flags.host ?? file.host ?? '127.0.0.1',
      timeoutMs: flags.timeoutMs ?? file.timeoutMs ?? 30_000,
      ...(file.upstreamHeaders ? { upstreamHeaders: file.upstreamHeaders } : {}),
      ...(file.creditHeaders !== undefined ? { creditHeaders: file.creditHeaders } : {}),
      ...(file.methodOverride !== undefined ? { methodOverride: file.methodOverride } : {}),
      ...(file.shutdownGraceMs !== undefined ? { shutdownGraceMs: file.shutdownGraceMs } : {}),
    })
  } catch (error) {
    await gate.close()
    throw listenError(error, flags.port ?? file.port ?? 3000)
  }

  const where = local ? `plan ${planId} on an embedded local ledger (in memory, gone when this stops)` : `plan ${planId} on ${describeEnvironment(environment)}`
  out.log(`plangate-proxy ${proxy.url} -> ${upstream}, ${where}`)
  out.log(`  costs: ${describeCosts(routes, defaultCost)}`)
  if (subscriberKey) {
    out.log(`\nA subscriber with ${LOCAL_FUNDS} in the wallet (the plan: ${LOCAL_PLAN.credits} credits for ${LOCAL_PLAN.price}, ordered automatically). Try:\n`)
    out.log(`${tryCommand(proxy.url, routes, subscriberKey)}\n`)
  }
  return { proxy, planId, ledger }
}

/** Runs `fn`; an option error (TypeError) becomes a UsageError, said to come from `source`. */
function checked<T>(fn: () => T, source?: string): T {
  try {
    return fn()
  } catch (error) {
    if (!(error instanceof TypeError)) throw error
    const message = error.message.replace(/^plangate(-proxy)?: /, '')
    throw new UsageError(source ? `${source}: ${message}` : message)
  }
}

function normalizePlanIdOr(value: string | number): string | undefined {
  try {
    return normalizePlanId(value)
  } catch {
    return undefined
  }
}

function listenError(error: unknown, port: number): Error {
  const code = (error as { code?: unknown }).code
  if (error instanceof TypeError) return new UsageError(error.message.replace(/^plangate-proxy: /, ''))
  if (code === 'EADDRINUSE') return new Error(`port ${port} is already in use: stop what listens there, or pick another port with --port.`)
  if (code === 'EACCES') return new Error(`not allowed to listen on port ${port}: pick a port above 1023 with --port.`)
  if (code === 'EADDRNOTAVAIL') return new Error('the address given to --host is not one of this machine\'s.')
  return error instanceof Error ? error : new Error(String(error))
}

function checkEnvironment(environment: string, source: string): void {
  if (['sandbox', 'live', 'local'].includes(environment)) return
  let url: URL | undefined
  try {
    url = new URL(environment)
  } catch {
    url = undefined
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new UsageError(`${source}: expected sandbox, live, local or the API's base URL (http:// or https://), got ${JSON.stringify(environment.slice(0, 60))}.`)
  }
}

function describeEnvironment(environment: string | undefined): string {
  if (environment === undefined) return 'Nevermined (the environment of NVM_API_KEY, else the sandbox)'
  if (environment === 'sandbox' || environment === 'live') return `the Nevermined ${environment} environment`
  return environment
}

function describeCosts(routes: Record<string, RouteCost>, defaultCost: number): string {
  const listed = Object.entries(routes).map(([key, cost]) => `${key} ${typeof cost === 'object' ? `up to ${cost.max} by ${cost.usageHeader}` : cost === 0 ? 'free' : cost}`)
  return [...listed, `${listed.length ? 'anything else' : 'every request'} ${defaultCost === 0 ? 'free' : defaultCost}`].join(', ')
}
