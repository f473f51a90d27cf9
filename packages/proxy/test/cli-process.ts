import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { localLedgerEnv, ROOT } from '../../../test/runtimes/process'

/** The command from source, as `node` runs it (tsx as a loader: the child is node itself, so signals reach it). */
export const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const NODE_ARGS = ['--import', 'tsx', '--conditions=plangate-source', CLI]

/** Generous: two cores shared with other test runs, and tsx compiles the sources on start. */
export const START_TIMEOUT_MS = 45_000

export interface ProxyProcess {
  url: string
  child: ChildProcess
  output(): string
  /** SIGTERM, or `signal` (SIGKILL 10 s later if still running); resolves with how it exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const running = new Set<ProxyProcess>()

/** Stops every proxy this file started: for afterAll. */
export async function stopAllProxies(): Promise<void> {
  await Promise.all([...running].map((proxy) => proxy.stop()))
}

/**
 * Starts `plangate-proxy <args>` and resolves once it says where it listens (use `--port 0`:
 * the OS picks the port and the proxy prints it). Rejects with the output if it exits first.
 * `env` defaults to the environment without NVM_*.
 */
export function spawnProxy(args: string[], env: NodeJS.ProcessEnv = localLedgerEnv()): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const proxy: ProxyProcess = {
    url: '',
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal)
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        const result = await exited
        clearTimeout(killer)
        return result
      }
      return exited
    },
  }
  running.add(proxy)

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the proxy did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /^plangate-proxy (http:\/\/\S+) -> /m.exec(output)
      if (match && !proxy.url) {
        clearTimeout(timer)
        ;(proxy as { url: string }).url = match[1]!
        resolve(proxy)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      if (!proxy.url) reject(new Error(`the proxy exited (${code ?? signal}) before listening:\n${output}`))
    })
  })
}

/** Runs the command to its end (for the ones that must fail at once): exit code and output. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = localLedgerEnv(), cwd = ROOT): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const killer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)))
  clearTimeout(killer)
  return { code, stdout, stderr }
}
