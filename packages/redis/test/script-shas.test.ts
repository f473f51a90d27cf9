/**
 * Each Lua script's SHA-1, pinned: any edit to a script's text, even a comment or a space, fails
 * here until the pin below is updated with it, so that it is made on purpose and reviewed (a
 * script is where the store keeps its money right). The SHA is also what EVALSHA names.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SCRIPTS } from '../src/script-set'

const PINNED: Record<string, string> = {
  RESERVE: '1ba1cc6c70551b7636b466d0de55f39d9c8b5f85',
  RELEASE: '4aea6e0609340c98246443e52534622323a44b74',
  COMMIT: '278da0489a37e052f098abb9cdf5f5c591ce183e',
  SETTLE: 'eda23feaaf9db71cf14ffc7bf706ea5b9e131a98',
  OBSERVE: '75b941f79539643e2f96d236980f8b5991082872',
  SNAPSHOT: '92940dcf4cb671e409a8f1309b8b50352b725f05',
  RECORD_ORDER: 'd4be4f66f6932dec33ec90407dacf76dff045613',
  LOCK: '8173af13ea139c6f80f711f83cbad853b3f0fefb',
  UNLOCK: 'c2ac96b36fbd18235e5b2746a3be9789621b713b',
  COMMIT_RECORDED: 'c7ba8b818fcd0d2a0e3166e06b2eaa9f43e60ede',
  WRITE_RECORD: '25e7176f7bdb4ea264164769c801595eb0e1077f',
  START_REDEMPTION: 'fef035a9d670dde06e48739e0eda4fd7e225ae0b',
  SETTLE_RECORDED: 'b9c02aebb310f4ff1c8c7b2175ff41977c932c23',
  IN_FLIGHT: '0e6a16bb3c4375b412ab2095cd8317b5627667fb',
  READ_RECORD: '42476f992ca415560ca9d11c7a36e8d464b3ca79',
  ADOPT: '052461b7b0a3e7c7b30ee453e256dc01f906e7b1',
  INDEX_KEY: '72cf095a6bf294c7cc5b502ed213dbd931f65ed0',
  OWNER_KEYS: 'dfd4385a34c6af59d6316629db8c1a0c111c0ca9',
  RENEW_OWNER: 'dd63fabbe7f341de07d6ce8daef0d12383062afd',
  CLAIM_OWNER: 'ab334e7f8b34caefb27161e58e10b2585982baf2',
  FORGET_OWNER: '20e4d30c9bb9397b5029d59e5477fa615b2f2169',
  DROP_INDEX: '7be20c585ae21523f5c957c6e9e5fbce2186d9de',
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

describe('the Lua scripts', () => {
  it('are exactly the ones pinned, no more, no fewer', () => {
    expect(Object.keys(SCRIPTS).sort(), 'a script was added or removed: pin its SHA-1 here (or drop its pin)').toEqual(Object.keys(PINNED).sort())
  })

  it.each(Object.entries(SCRIPTS))('%s has the pinned SHA-1', (name, source) => {
    expect(sha1(source), `${name} changed: update the pin when you change the script on purpose`).toBe(PINNED[name])
  })
})
