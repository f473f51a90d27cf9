/** The orchestrator's side of the child processes: fork with the TypeScript loader, talk over IPC. */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Command, Ready, Reply } from './protocol'

/** This bench/ directory; a `--compare` baseline has its own copy. */
export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url))

/**
 * How children run TypeScript (tsx) and which code of the workspace packages they load: their
 * sources (the default: no build needed), or with `useBuiltPackages()` their dist/ builds — what
 * users run. tsx compiles with esbuild's keepNames, which costs a little on every closure created,
 * so the sources run slightly slower than the builds.
 */
let loaderFlags = ['--import', 'tsx', '--conditions=plangate-source']

export function useBuiltPackages(): void {
  loaderFlags = ['--import', 'tsx']
}

export interface Child {
  readonly ready: Ready
  readonly pid: number
  command(type: Command['type']): Promise<Reply>
  close(): Promise<void>
}

export interface SpawnOptions {
  /** The bench/ directory whose script runs (default this one). */
  benchDir?: string
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[]
  /** A command to run node under, e.g. valgrind and its flags (spawnChild only). */
  wrapper?: string[]
}

/** Starts `bench/<script>` with its JSON config and waits for its `ready` message. */
export async function spawnChild(script: string, config: unknown, options: SpawnOptions = {}): Promise<Child> {
  const benchDir = options.benchDir ?? BENCH_DIR
  const execArgv = [...loaderFlags, ...(options.nodeFlags ?? [])]
  const spawnOptions = { cwd: benchDir, env: { ...process.env, NODE_ENV: 'production' } }
  const child = options.wrapper
    ? spawn(options.wrapper[0]!, [...options.wrapper.slice(1), process.execPath, ...execArgv, `${benchDir}/${script}`, JSON.stringify(config)], {
        ...spawnOptions,
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      })
    : fork(`${benchDir}/${script}`, [JSON.stringify(config)], { ...spawnOptions, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pending = new Map<number, (reply: Reply) => void>()
  let nextId = 1
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench: ${script} exited (${code}) before it was ready`)))
    child.once('message', (message: Ready) => resolve(message))
  })
  child.on('message', (message: Reply) => pending.get(message.id)?.(message))
  child.removeAllListeners('exit')
  child.once('exit', (code, signal) => {
    for (const [, settle] of pending) settle({ id: -1 })
    if (code !== 0 && signal === null) console.error(`bench: ${script} exited with ${code}`)
  })

  const command = (type: Command['type']) =>
    new Promise<Reply>((resolve, reject) => {
      const id = nextId++
      pending.set(id, (reply) => {
        pending.delete(id)
        if (reply.id === -1) reject(new Error(`bench: ${script} exited while answering "${type}"`))
        else resolve(reply)
      })
      child.send({ id, type } satisfies Command)
    })
  return { ready, pid: child.pid!, command, close: () => closeChild(child, command) }
}

async function closeChild(child: ChildProcess, command: (type: Command['type']) => Promise<Reply>): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await command('close').catch(() => {})
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

/** Runs `bench/<script>` to completion (no IPC) and parses the JSON it prints last. */
export async function runScript<T>(script: string, args: string[], options: SpawnOptions = {}): Promise<T> {
  const benchDir = options.benchDir ?? BENCH_DIR
  const child = spawn(process.execPath, [...loaderFlags, ...(options.nodeFlags ?? []), `${benchDir}/${script}`, ...args], {
    cwd: benchDir,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  if (code !== 0) throw new Error(`bench: ${script} exited with ${code}`)
  const last = stdout.trim().split('\n').pop() ?? ''
  return JSON.parse(last) as T
}
