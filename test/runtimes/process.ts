import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url))
export const WORKER_DIR = fileURLToPath(new URL('../../examples/hono-worker/', import.meta.url))

/** A runtime's executable as installed in test/node_modules (fails clearly if it is missing). */
export function binary(relative: string): string {
  const path = fileURLToPath(new URL(`../node_modules/${relative}`, import.meta.url))
  if (!existsSync(path)) throw new Error(`${path} is missing: run pnpm install (the test package installs the runtimes)`)
  return path
}

/** A loopback port nobody listens on right now (the OS picks it; it is free again once we close). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The environment without NVM_* (then `extra`): the agent runs on its local ledger unless told otherwise. */
export function localLedgerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('NVM_')) delete env[name]
  return { ...env, ...extra }
}

/** How long a runtime may take to answer its first request: generous, since two CPU cores are
 * shared with other test runs and a runtime's first start compiles. Hooks need more than this. */
export const START_TIMEOUT_MS = 45_000
export const HOOK_TIMEOUT_MS = START_TIMEOUT_MS + 15_000

export interface Running {
  url: string
  /** What the process printed so far, for failure messages. */
  output(): string
  stop(): Promise<void>
  /** SIGKILL: gone at once, nothing flushed; resolves once it has exited. */
  kill(): Promise<void>
}

const spawned = new Set<() => Promise<void>>()

/** Stops every process `start` spawned in this test file, even one that never came up: for afterAll. */
export async function stopAll(): Promise<void> {
  await Promise.all([...spawned].map((stopOne) => stopOne()))
}

/**
 * Spawns `command` (the runtime itself, never a wrapper script, so that killing it kills the
 * server) and waits until `GET {url}/health` answers 200. Rejects with the process's output if it
 * exits or is not up within `timeoutMs`. `stopAll()` in afterAll stops it in every case.
 */
export async function start(
  command: string,
  args: string[],
  options: { port: number; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<Running> {
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? localLedgerEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  let spawnError: Error | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    // A runtime that cannot be started at all (not executable, say) emits 'error' and no 'exit'.
    child.once('error', (error) => {
      spawnError = error
      resolve()
    })
  })
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  const running: Running = { url: `http://127.0.0.1:${options.port}`, output: () => output, stop: () => stop(child, exited), kill }
  spawned.add(running.stop)

  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`${command} could not be started: ${spawnError.message}`)
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${command} exited (${child.exitCode ?? child.signalCode}) before listening:\n${output}`)
    }
    const ok = await fetch(`${running.url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.ok,
      () => false,
    )
    if (ok) return running
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${command} did not answer GET /health within ${timeoutMs} ms:\n${output}`)
}

/** SIGTERM, then SIGKILL if the runtime has not exited 5 s later. */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  child.kill('SIGTERM')
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(killer)
}
