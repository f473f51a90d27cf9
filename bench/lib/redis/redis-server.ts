/**
 * The benchmark's own `redis-server`: started on a free loopback port with nothing persisted,
 * watched through `INFO commandstats` (how many commands of each name it has run), and stopped at
 * the end — also when the run fails, or the orchestrator exits before stopping it.
 */
import { execFileSync, spawn } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { createClient } from 'redis'

export interface BenchRedis {
  readonly url: string
  /** Calls of each command (lower case) the server has run so far, the `INFO` of these snapshots excepted. */
  commandStats(): Promise<Record<string, number>>
  stop(): Promise<void>
}

/** Throws a plain message when `redis-server` is missing, before anything is started. */
export function requireRedisServer(): void {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
  } catch {
    throw new Error('bench redis: redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)')
  }
}

export async function startRedis(): Promise<BenchRedis> {
  requireRedisServer()
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // Whatever happens to the run, no redis-server outlives it.
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const stopServer = async () => {
    process.removeListener('exit', killOnExit)
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
  try {
    await waitForPing(port, () => child.exitCode !== null, () => output)
  } catch (error) {
    await stopServer()
    throw error
  }
  const url = `redis://127.0.0.1:${port}`
  const client = createClient({ url, socket: { reconnectStrategy: false } })
  client.on('error', (error: Error) => console.error(`bench redis: ${error.message}`))
  await client.connect()
  return {
    url,
    async commandStats() {
      return parseCommandStats(String(await client.sendCommand(['INFO', 'commandstats'])))
    },
    async stop() {
      client.destroy()
      await stopServer()
    },
  }
}

/** `cmdstat_evalsha:calls=12,usec=…` lines → { evalsha: 12 }; this orchestrator's own INFO calls left out. */
export function parseCommandStats(info: string): Record<string, number> {
  const stats: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = match[1]!.toLowerCase()
    if (name !== 'info') stats[name] = Number(match[2])
  }
  return stats
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitForPing(port: number, exited: () => boolean, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (exited()) throw new Error(`bench redis: redis-server exited before answering:\n${output()}`)
    if (await answersPing(port)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`bench redis: redis-server did not answer PING on port ${port}:\n${output()}`)
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    const done = (up: boolean) => {
      socket.destroy()
      resolve(up)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}
