import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))

/** A running `plangate-ledger`, its output so far, and its end. */
export interface CliProcess {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** The first line on stdout (the seed with --json), or a rejection if the process ends first. */
  firstLine(): Promise<string>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts the command from its source, as node runs it: a real process with tsx for the
 * TypeScript, so the test needs no build. `plangate-source` resolves workspace packages to src.
 */
export function startCli(args: string[]): CliProcess {
  const child = spawn(process.execPath, ['--conditions=plangate-source', '--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const firstLine = () =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const end = out.indexOf('\n')
        if (end === -1) return
        child.stdout!.off('data', check)
        resolve(out.slice(0, end))
      }
      child.stdout!.on('data', check)
      check()
      void exited.then(({ code, signal }) => reject(new Error(`plangate-ledger ended (code ${code}, signal ${signal}) before a line on stdout: ${err}`)))
    })
  return { child, stdout: () => out, stderr: () => err, firstLine, exited }
}

/** Stops a process the test left running, without waiting for a clean exit. */
export function kill(cli: CliProcess | undefined): void {
  if (cli && cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL')
}
