import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalLedger } from '@plangate/core/local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localLedgerEnv } from '../../../test/runtimes/process'
import { run, type CliOutput } from '../src/cli/run'
import { UsageError } from '../src/cli/usage-error'
import { runCli, START_TIMEOUT_MS } from './cli-process'
import { startUpstream, type Upstream } from './upstream'

const dir = mkdtempSync(join(tmpdir(), 'plangate-proxy-cli-'))
function configFile(name: string, content: unknown): string {
  const path = join(dir, name)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

function capture(): CliOutput & { lines: string[] } {
  const lines: string[] = []
  return { lines, log: (line) => lines.push(line), error: (line) => lines.push(line) }
}

/** A real agent key, so that only the flag under test is wrong. */
const agentKey = createLocalLedger().createAccount().apiKey
const base = ['--upstream', 'http://127.0.0.1:9', '--plan', '7', '--port', '0']

async function usageError(argv: string[], env: NodeJS.ProcessEnv = { NVM_API_KEY: agentKey }): Promise<string> {
  const error = await run(argv, env, capture(), '0.0.0').then(
    async (started) => {
      await started?.proxy.close()
      return undefined
    },
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UsageError)
  return (error as UsageError).message
}

describe('plangate-proxy: a mistake in the flags, the config file or the environment is one clear sentence', () => {
  it.each([
    [['--pln', '7'], /^unknown flag --pln; the flags are --plan, --upstream, /],
    [[...base, '--port', 'http'], /^--port must be a whole number from 0 to 65535, got "http"\.$/],
    [[...base, '--timeout-ms', '0'], /^--timeout-ms must be a whole number from 1 to/],
    [['--plan', '7'], /^--upstream is required: the URL of the API to charge for/],
    [['--plan', '7', '--upstream', 'ftp://127.0.0.1:21'], /^--upstream: the URL must be http:\/\/ or https:\/\/\.$/],
    [['--plan', '7', '--upstream', 'http://u:p@127.0.0.1:8080'], /^--upstream: the URL must not hold a user name or password\.$/],
    [['--upstream', 'http://127.0.0.1:9'], /^--plan is required: the id of the Nevermined plan/],
    [['--upstream', 'http://127.0.0.1:9', '--plan', '7/../x'], /^--plan: planId must be a string of decimal digits/],
    [[...base, '--route', 'POST /v1/chat'], /^--route "POST \/v1\/chat": expected "METHOD \/path=COST"/],
    [[...base, '--route', 'POST v1/chat=5'], /^--route: the path of "POST v1\/chat" must start with "\/"\.$/],
    [[...base, '--route', 'GET /a/*/b=5'], /^--route: in "GET \/a\/\*\/b", "\*" may only end the path/],
    [[...base, '--environment', 'staging'], /^--environment: expected sandbox, live, local or the API's base URL/],
    [[...base, '--local', '--environment', 'sandbox'], /^--local and --environment contradict each other/],
    [[...base, '--plan'], /^--plan needs a value\.$/],
    [[...base, 'extra'], /^unexpected argument "extra"/],
  ])('%j', async (argv, message) => {
    expect(await usageError(argv)).toMatch(message)
  })

  it('says NVM_API_KEY is missing, or not a key, without repeating it', async () => {
    expect(await usageError(base, {})).toMatch(/^NVM_API_KEY is not set: .* or run with --local/)
    const message = await usageError(base, { NVM_API_KEY: 'sk-live-0123456789abcdef' })
    expect(message).toMatch(/^NVM_API_KEY is not a Nevermined API key: expected nvm:<jwt>/)
    expect(message).not.toContain('0123456789abcdef')
  })

  it.each([
    ['unknown.json', { plan: '7', rotes: {} }, /unknown\.json: unknown key "rotes"; the keys are plan, upstream, port, /],
    ['cost.json', { routes: { 'POST /v1/chat': '5' } }, /cost\.json: invalid key "routes\.POST \/v1\/chat": /],
    ['negative.json', { defaultCost: -1 }, /negative\.json: invalid key "defaultCost": /],
    ['pattern.json', { routes: { 'GET /a/:1': 2 } }, /pattern\.json key "routes": in "GET \/a\/:1", ":1" is not a parameter name/],
    ['broken.json', '{ "plan": "7", }', /broken\.json is not valid JSON: /],
    ['array.json', '[1]', /array\.json must hold a JSON object/],
    ['key.json', { gate: { apiKey: 'nvm:x' } }, /key\.json: key "gate\.apiKey": the agent key is read from NVM_API_KEY, never from a file\.$/],
    ['batch.json', { gate: { settle: { batchMs: -1 } } }, /batch\.json key "gate": invalid option "settle\.batchMs": /],
    ['gate.json', { gate: { batchMs: 100 } }, /gate\.json key "gate": invalid option "batchMs": unknown option; the options are /],
    ['nested.json', { upstreamHeaders: { balance: 'X-B' } }, /nested\.json: unknown key "upstreamHeaders\.balance"\.$/],
    ['header.json', { upstreamHeaders: { remaining: 'Authorization' } }, /header\.json: invalid key "upstreamHeaders\.remaining": that header is the caller's/],
  ])('config file %s', async (name, content, message) => {
    expect(await usageError([...base, '--config', configFile(name, content)])).toMatch(message)
  })

  it('names a config file it cannot read', async () => {
    expect(await usageError([...base, '--config', join(dir, 'missing.json')])).toMatch(/^cannot read the config file .*missing\.json \(ENOENT\): check the path given to --config\.$/)
  })
})

describe('plangate-proxy as a process', () => {
  it('exits 2 on a bad flag or config key, with one line and no stack', async () => {
    for (const args of [['--pln', '7'], [...base, '--config', configFile('exit.json', { rotes: {} })]]) {
      const { code, stdout, stderr } = await runCli(args)
      expect(code).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toMatch(/^plangate-proxy: (unknown flag --pln|.*exit\.json: unknown key "rotes")/)
      expect(stderr).toMatch(/Run plangate-proxy --help/)
      expect(stderr).not.toMatch(/\bat .*:\d+:\d+/)
      expect(stderr.trim().split('\n')).toHaveLength(2)
    }
  }, START_TIMEOUT_MS * 2)

  it('prints its help and exits 0', async () => {
    const { code, stdout } = await runCli(['--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^plangate-proxy: put a Nevermined payment plan in front of an existing HTTP API/)
    expect(stdout).toContain('--upstream <url>')
  }, START_TIMEOUT_MS)

  it('exits 1 with a sentence when the port is taken', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const { port } = taken.address() as { port: number }
    try {
      const { code, stderr } = await runCli(['--local', '--upstream', 'http://127.0.0.1:9', '--port', String(port)], localLedgerEnv())
      expect(code).toBe(1)
      expect(stderr).toContain(`plangate-proxy: port ${port} is already in use: stop what listens there, or pick another port with --port.`)
      expect(stderr).not.toMatch(/\bat .*:\d+:\d+/)
    } finally {
      await new Promise((resolve) => taken.close(resolve))
    }
  }, START_TIMEOUT_MS)
})

describe('plangate-proxy --local', () => {
  let upstream: Upstream
  beforeAll(async () => {
    upstream = await startUpstream()
  })
  afterAll(async () => {
    await upstream.close()
  })

  it('runs on an embedded ledger and prints a curl that works; flags override the config file', async () => {
    const config = configFile('local.json', { routes: { 'GET /v1/status/200': 2, 'GET /v1/status/202': 7, 'GET /health': 0 }, defaultCost: 5 })
    const out = capture()
    const started = await run(['--local', '--upstream', upstream.url, '--port', '0', '--config', config, '--route', 'GET /v1/status/200=3', '--default-cost', '1'], {}, out, '0.0.0')
    try {
      const printed = out.lines.join('\n')
      expect(printed).toContain(`plangate-proxy ${started!.proxy.url} -> ${upstream.url}, plan 1 on an embedded local ledger`)
      expect(printed).toContain('costs: GET /v1/status/200 3, GET /v1/status/202 7, GET /health free, anything else 1')
      // The curl as printed, run as a shell would: its URL and its header.
      const curl = /^curl -i (\S+) -H 'Authorization: Bearer (nvm:[\w.-]+)'$/m.exec(printed)
      expect(curl, printed).not.toBeNull()
      const [, url, key] = curl!
      expect(url).toBe(`${started!.proxy.url}/v1/status/200`)
      const call = (path: string) => fetch(`${started!.proxy.url}${path}`, { headers: { Authorization: `Bearer ${key}` } })

      const first = await fetch(url!, { headers: { Authorization: `Bearer ${key}` } })
      expect(first.status).toBe(200)
      expect(first.headers.get('x-credits-remaining')).toBe('7') // an order of 10, the flag's cost 3
      expect((await call('/v1/status/201')).headers.get('x-credits-remaining')).toBe('6') // the flag's default 1, not the file's 5
      expect((await call('/v1/status/202')).headers.get('x-credits-remaining')).toBe('9') // the file's 7: a second order
      expect((await fetch(`${started!.proxy.url}/health`)).status).toBe(200)

      await started!.proxy.close()
      expect(started!.ledger!.redeemed(started!.planId)).toBe(11)
      expect(started!.ledger!.orders(started!.planId)).toBe(2)
    } finally {
      await started?.proxy.close()
    }
  })
})
