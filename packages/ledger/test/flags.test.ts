import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DEFAULTS, FLAG_NAMES, parseFlags } from '../src/cli/flags'
import { HELP } from '../src/cli/help'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

describe('the command line', () => {
  it('defaults to loopback port 8787 and the seed the README describes', () => {
    expect(parseFlags([])).toEqual({ ...DEFAULTS, serveRedeem: false, json: false, help: false, version: false })
    expect(DEFAULTS.host).toBe('127.0.0.1')
    for (const [flag, value] of [['--port', DEFAULTS.port], ['--credits', DEFAULTS.credits], ['--price', DEFAULTS.price], ['--funds', DEFAULTS.funds]] as const) {
      expect(README).toMatch(new RegExp(`\\| \`${flag} <[a-z]+>\` \\|[^\\n]*\\(default ${value}\\)`))
    }
  })

  it('reads each flag', () => {
    const flags = parseFlags(['--', '--port', '0', '--host', '::1', '--credits', '3', '--price', '0.5', '--funds', '0', '--serve-redeem', '--json'])
    expect(flags).toMatchObject({ port: 0, host: '::1', credits: 3, price: 0.5, funds: 0, serveRedeem: true, json: true })
  })

  it('is documented flag for flag in the README table and in --help', () => {
    const documented = [...README.matchAll(/^\| `(--[a-z-]+)/gm)].map((match) => match[1])
    expect(documented.sort()).toEqual(FLAG_NAMES.filter((flag) => flag !== '--help' && flag !== '--version').sort())
    for (const flag of FLAG_NAMES) expect(HELP).toContain(flag)
  })
})
