import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { connect, createServer } from 'node:net'

/**
 * A real `redis-server` of our own on a free loopback port, with nothing persisted. The tests can
 * kill it, freeze it (SIGSTOP) and thaw it, and start it again on the same port.
 */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Starts it (again), on the same port, and waits until it answers PING. */
  start(): Promise<void>
  /** SIGKILL: gone at once, with everything it held. */
  kill(): Promise<void>
  /** SIGSTOP: it keeps its port and accepts connections, and answers nothing. */
  freeze(): void
  /** SIGCONT. */
  thaw(): void
  /** Stops it for good (thawing it first if frozen). */
  stop(): Promise<void>
}

let checked = false

/** Fails clearly when `redis-server` is missing (CI installs it: .ci/run). */
function requireRedisServer(): void {
  if (checked) return
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
  } catch {
    throw new Error('redis-server is not installed: apt-get install redis-server (.ci/run does it)')
  }
  checked = true
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A server on a free port, started unless `{ started: false }`; `extra` are more redis-server arguments. */
export async function redisServer(options: { started?: boolean; extra?: string[] } = {}): Promise<RedisServer> {
  requireRedisServer()
  const port = await freePort()
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let frozen = false
  let output = ''

  const halt = async (signal: NodeJS.Signals) => {
    const running = child
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    if (frozen && signal !== 'SIGKILL') running.kill('SIGCONT')
    frozen = false
    running.kill(signal)
    await exited
    child = undefined
  }

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      output = ''
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(options.extra ?? [])]
      const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
      started.stdout!.on('data', (chunk) => (output += chunk))
      started.stderr!.on('data', (chunk) => (output += chunk))
      exited = new Promise((resolve) => started.once('exit', () => resolve()))
      child = started
      for (let attempt = 0; attempt < 200; attempt++) {
        if (started.exitCode !== null) throw new Error(`redis-server exited before answering:\n${output}`)
        if (await answersPing(port)) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`redis-server did not answer PING on port ${port}:\n${output}`)
    },
    kill: () => halt('SIGKILL'),
    freeze() {
      child?.kill('SIGSTOP')
      frozen = true
    },
    thaw() {
      child?.kill('SIGCONT')
      frozen = false
    },
    stop: () => halt('SIGTERM'),
  }
  if (options.started !== false) await server.start()
  return server
}

/** PING over a raw socket: `+PONG`, or `-NOAUTH` from a server that wants a password, both mean up. */
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
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())))
  })
}
