/** The adapter cases about requirePlan's plan id and options (cases.ts has the rest). */
import { expect } from 'vitest'
import { secretsOf, world } from '../helpers/world'
import type { AdapterCase } from './cases'
import { auth, expectProblem, get } from './http'

const PLAN_IDS: Array<[string, unknown]> = [
  ['7/../x', '7/../x'],
  ['-1', -1],
  ['1.5', 1.5],
  ['2 ** 60', 2 ** 60],
  ["''", ''],
  ['null', null],
]

const BIG_PLAN_IDS: Array<[string, unknown, string]> = [
  ['a 78-digit string', '1234567890'.repeat(7) + '12345678', '1234567890'.repeat(7) + '12345678'],
  ['a bigint', 2n ** 200n, (2n ** 200n).toString()],
  ['a string with leading zeros', '0042', '42'],
]

export const OPTION_CASES: AdapterCase[] = [
  ...PLAN_IDS.map(
    ([what, planId]): AdapterCase => ({
      name: `plan id ${what} throws a TypeError at creation`,
      async run({ d, track }) {
        const { gate } = track(world())
        await expect(d.create(planId, { gate })).rejects.toThrow(TypeError)
      },
    }),
  ),
  ...[-1, 1.5, '1'].map(
    (cost): AdapterCase => ({
      name: `cost ${JSON.stringify(cost)} throws a TypeError naming the option at creation`,
      async run({ d, track }) {
        const { gate } = track(world())
        await expect(d.create(1, { gate, cost })).rejects.toThrow(TypeError)
        await expect(d.create(1, { gate, cost })).rejects.toThrow(/cost/)
      },
    }),
  ),
  {
    name: 'an unknown option, a non-boolean headers, a non-function credential and a fake gate throw TypeErrors',
    async run({ d, track }) {
      const { gate } = track(world())
      await expect(d.create(1, { gate, costs: 2 })).rejects.toThrow(/"costs"/)
      await expect(d.create(1, { gate, costs: 2 })).rejects.toThrow(TypeError)
      await expect(d.create(1, { gate, headers: 'no' })).rejects.toThrow(TypeError)
      await expect(d.create(1, { gate, credential: 'key' })).rejects.toThrow(TypeError)
      await expect(d.create(1, { gate: {} })).rejects.toThrow(TypeError)
    },
  },
  ...BIG_PLAN_IDS.map(
    ([what, id, decimal]): AdapterCase => ({
      name: `takes ${what} as the plan id and sends its exact decimal string`,
      async run({ start, track }) {
        const { alice, gate, calls } = track(world())
        const res = await get((await start(id, { gate })).url, '/ok', auth(alice.apiKey))
        // The ledger has no such plan: the server is misconfigured, and says so without the key.
        expectProblem(res, 500, 'PLAN_NOT_FOUND', decimal, secretsOf(alice.apiKey))
        expect(calls.length).toBeGreaterThan(0)
        for (const call of calls) expect(new URL(call.url).pathname).toContain(`/protocol/plans/${decimal}/`)
      },
    }),
  ),
]
