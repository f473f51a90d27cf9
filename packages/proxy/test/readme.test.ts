import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, localLedgerEnv, ROOT } from '../../../test/runtimes/process'
import { START_TIMEOUT_MS } from './cli-process'

const children: ChildProcess[] = []
afterAll(async () => {
  // SIGTERM: tsx hands it to the node process it started (a SIGKILL would orphan that one).
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(killer)
    }),
  )
}, 20_000)

/** The README's "Proxy: monetise an existing API without code" commands, as a user pastes them. */
function readmeCommands(): { standIn: string; proxyArgs: string[] } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const heading = readme.indexOf('### Proxy: monetise an existing API without code')
  expect(heading, 'the README has lost its proxy quick start').toBeGreaterThanOrEqual(0)
  const section = readme.slice(heading)
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!
  const [first, second] = block.trim().split('\n')
  const standIn = /^node -e "(.*)" &/.exec(first!)![1]!
  const proxy = /^npx -y pnpm@10\.34\.8 proxy (.*?)\s+#/.exec(second!)![1]!
  return { standIn, proxyArgs: proxy.split(/\s+/) }
}

function spawnLogged(command: string, args: string[]) {
  const child = spawn(command, args, { cwd: ROOT, env: localLedgerEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  return { child, output: () => output }
}

describe('the README section on the proxy', () => {
  it('works as written: the stand-in API, then `pnpm proxy --local`, then the curl it prints', async () => {
    const { standIn, proxyArgs } = readmeCommands()
    expect(proxyArgs).toEqual(['--local', '--upstream', 'http://127.0.0.1:8080'])
    // The root script `pnpm proxy` runs, with 8080 moved to a free port and the proxy's own port picked by the OS.
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.proxy!
    const [bin, ...scriptArgs] = script.split(' ')
    expect(bin).toBe('tsx')

    const port = await freePort()
    const api = spawnLogged(process.execPath, ['-e', standIn.replace('8080', String(port))])
    const args = proxyArgs.map((arg) => arg.replace('8080', String(port)))
    const proxy = spawnLogged(join(ROOT, 'node_modules/.bin/tsx'), [...scriptArgs, ...args, '--port', '0'])

    const deadline = Date.now() + START_TIMEOUT_MS
    let curl: RegExpExecArray | null = null
    while (!(curl = /^curl -i (\S+) -H 'Authorization: Bearer (\S+)'$/m.exec(proxy.output())) && Date.now() < deadline && proxy.child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(curl, proxy.output()).not.toBeNull()
    const response = await fetch(curl![1]!, { headers: { Authorization: `Bearer ${curl![2]!}` } })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ hello: 'world', path: '/' })
    expect(response.headers.get('x-credits-remaining')).toBe('9')
    expect(api.output()).toBe('')
  }, START_TIMEOUT_MS + 15_000)
})
