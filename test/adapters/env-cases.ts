/**
 * The adapter cases about the gate made from the environment (NVM_API_KEY, NVM_ENVIRONMENT) when
 * `requirePlan` gets none. adapters.test.ts saves and restores process.env around them.
 */
import { expect } from 'vitest'
import { GateMisconfiguredError } from '@plangate/core'
import { sharedGate } from '@plangate/core/adapter'
import { secretsOf, subscribe, world } from '../helpers/world'
import { serveFetch } from '../helpers/serve'
import type { AdapterCase } from './cases'
import { auth, expectProblem, get } from './http'

export const ENV_CASES: AdapterCase[] = [
  {
    name: 'with no gate and no NVM_API_KEY: a GateMisconfiguredError naming it at creation, or 500 GATE_MISCONFIGURED per request',
    async run({ d, start }) {
      delete process.env.NVM_API_KEY
      const { alice, planId } = world()
      if (d.gateFromEnv === 'creation') {
        await expect(d.create(planId)).rejects.toThrow(GateMisconfiguredError)
        await expect(d.create(planId)).rejects.toThrow(/NVM_API_KEY/)
        return
      }
      const res = await get((await start(planId)).url, '/ok', auth(alice.apiKey))
      const body = expectProblem(res, 500, 'GATE_MISCONFIGURED', planId, secretsOf(alice.apiKey))
      expect(body.detail).toMatch(/NVM_API_KEY/)
    },
  },
  {
    name: 'with no gate, uses NVM_API_KEY and NVM_ENVIRONMENT, and does no I/O at creation',
    async run({ start }) {
      const { owner, alice, ledger, planId } = world()
      const served = await serveFetch(ledger.fetch)
      try {
        await subscribe(ledger, planId, alice)
        const env = { NVM_API_KEY: owner.apiKey, NVM_ENVIRONMENT: `${served.url}/api/v1` }
        Object.assign(process.env, env)
        const before = ledger.counters
        const app = await start(planId)
        expect(ledger.counters).toEqual(before)
        const res = await get(app.url, '/ok', auth(alice.apiKey))
        expect(res.status, res.text).toBe(200)
        expect(res.json().remaining).toBe(1)
        await sharedGate(env).close()
        expect(ledger.redeemed(planId)).toBe(1)
      } finally {
        await served.close()
      }
    },
  },
]
