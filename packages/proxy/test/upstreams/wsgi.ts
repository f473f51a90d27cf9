import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ProbeUpstream, Seen } from './seen'

const SCRIPT = fileURLToPath(new URL('./wsgi_upstream.py', import.meta.url))

/** Why the WSGI upstream cannot run here, or undefined when python3 is there. */
export function pythonMissing(): string | undefined {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) return `python3 is not on PATH (${probe.error?.message ?? `exit ${probe.status}`}): the Python WSGI upstream's probes are skipped.`
  return undefined
}

/** Python's wsgiref server in a child process (see wsgi_upstream.py); resolves once it listens. */
export async function startWsgiUpstream(): Promise<ProbeUpstream> {
  const child = spawn('python3', [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the WSGI upstream did not start: ${output}`)), 15_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /^PORT (\d+)$/m.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the WSGI upstream exited (${code}): ${output}`))
    })
  })
  const url = `http://127.0.0.1:${port}`
  return {
    name: 'Python wsgiref',
    url,
    async seen(probe: string) {
      const response = await fetch(`${url}/__seen?probe=${encodeURIComponent(probe)}`)
      return (await response.json()) as Seen[]
    },
    async close() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}
