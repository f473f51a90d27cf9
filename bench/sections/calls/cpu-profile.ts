/**
 * Reads a V8 CPU profile (`node --cpu-prof`'s .cpuprofile) into a top-down table: self time by
 * module (undici, Node's internals, plangate, zod, the framework, the route, GC) and by function,
 * and the inclusive time of the functions plangate's upstream calls go through. Idle time is left
 * out: shares are of the time the process was on a CPU.
 */
interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  /** µs on a CPU (every sample but idle). */
  busyMicros: number
  /** Self µs by module, largest first. */
  modules: [string, number][]
  /** Self µs by function (name and where), largest first. */
  functions: [string, number][]
  /** Inclusive µs of chosen functions (a frame counted once per sample, however deep it recurs). */
  inclusive: [string, number][]
}

/** Which part of the process a frame belongs to, from its script URL. */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC'
    if (functionName === '(program)') return 'V8 / native (program)'
    if (functionName === '(idle)') return 'idle'
    return `native: ${functionName || '(anonymous)'}`
  }
  if (url.startsWith('node:internal/deps/undici')) return "undici (Node's fetch)"
  if (/node:internal\/(http|_http)/.test(url) || /node:_http/.test(url)) return 'node:http'
  if (/node:internal\/(streams|webstreams)/.test(url) || url === 'node:stream') return 'Node streams / web streams'
  if (/node:(internal\/)?(net|stream_base_commons|dns|tls)/.test(url)) return 'node:net (sockets)'
  if (/node:internal\/(timers|process\/task_queues)|node:timers/.test(url)) return 'timers / microtask queue'
  if (url.startsWith('node:')) return `Node internals (${url.replace(/^node:(internal\/)?/, '').split('/')[0]})`
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  const source = /\/packages\/([^/]+)\/(src|dist)\/(.*)$/.exec(url)
  if (source) return `@plangate/${source[1]} ${source[3]}`
  // The route's work may be inlined into the app's handler (bare) or not (guarded): one label.
  if (/\/bench\/lib\/peers\/(routes|apps)\.ts$/.test(url)) return 'the route (bench/lib/peers)'
  const bench = /\/bench\/(.*)$/.exec(url)
  if (bench) return `bench ${bench[1]}`
  return url
}

/** Functions whose inclusive time says where an upstream call's cost goes. */
const INCLUSIVE = [
  'settle',
  'balance',
  'verify',
  'burn',
  'fetch',
  'json',
  'safeParse',
  'stringify',
  'parse',
  'paymentRequired',
  'snapshot',
  'setTimeout',
  'clearTimeout',
]

/** `json`: a .cpuprofile's text (what `node --cpu-prof` writes, or the inspector's Profiler.stop). */
export function summarise(json: string, inclusiveNames = INCLUSIVE): ProfileSummary {
  const profile = JSON.parse(json) as Profile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0))
  }
  const modules = new Map<string, number>()
  const functions = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let busy = 0
  for (const [id, micros] of self) {
    const node = byId.get(id)!
    const { functionName, url, lineNumber } = node.callFrame
    const module = moduleOf(url, functionName)
    if (module === 'idle') continue
    busy += micros
    modules.set(module, (modules.get(module) ?? 0) + micros)
    const name = `${functionName || '(anonymous)'} (${module}${url ? `:${lineNumber + 1}` : ''})`
    functions.set(name, (functions.get(name) ?? 0) + micros)
    // Inclusive: each chosen name once per stack.
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      const label = inclusiveLabel(frame.functionName, moduleOf(frame.url, frame.functionName), inclusiveNames)
      if (label && !seen.has(label)) {
        seen.add(label)
        inclusive.set(label, (inclusive.get(label) ?? 0) + micros)
      }
    }
  }
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1])
  return { busyMicros: busy, modules: sorted(modules), functions: sorted(functions), inclusive: sorted(inclusive) }
}

function inclusiveLabel(functionName: string, module: string, names: string[]): string | undefined {
  if (!names.includes(functionName)) return undefined
  if (functionName === 'fetch' && module.startsWith('undici')) return "fetch (undici's)"
  if (functionName === 'stringify' || functionName === 'parse') return `JSON.${functionName} (${module})`
  return `${functionName} (${module})`
}
