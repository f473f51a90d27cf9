/**
 * The hand-checked answer readers (packages/core/src/answers.ts) against the zod schemas they
 * stand in for: on any answer, a reader either declines (undefined) or returns exactly what the
 * schema returns, and never accepts what the schema refuses. Answers are generated around the
 * shapes the API uses, with every field sometimes missing, null, of the wrong type or out of range.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readBalance, readDelegation, readPermission, readSettle, readVerify } from '../packages/core/src/answers'
import { balanceSchema } from '../packages/core/src/schemas'
import { delegationAnswerSchema, permissionAnswerSchema, settleAnswerSchema, verifyAnswerSchema } from '../packages/core/src/x402/schemas'

const MAX = Number.MAX_SAFE_INTEGER
const creditsLike = fc.oneof(
  fc.nat(),
  fc.constantFrom(0, -1, 1.5, MAX, MAX + 1, -0, 2 ** 60),
  fc.nat().map(String),
  fc.constantFrom('', '0', '007', '-1', '1.5', ' 1', String(MAX), '9007199254740992', '99999999999999999999', '123456789012345678901', 'abc'),
)
const textLike = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('x'.repeat(2_000), 'x'.repeat(2_001)))
const dateLike = fc.constantFrom('2027-01-01T00:00:00Z', '2027-01-01T00:00:00.123+02:00', '2027-01-01', 'not a date', '2027-13-01T00:00:00Z', '')
const anything = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 5 }), fc.constant([]), fc.constant({}))

/** A field: absent (most often left out by `fc.record`'s requiredKeys), null, the usual kind, or anything. */
const field = (usual: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: usual, weight: 4 }, { arbitrary: fc.constant(null), weight: 1 }, { arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: anything, weight: 1 })
const answer = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof(
    { arbitrary: fc.record(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, field(v)])), { requiredKeys: [] }), weight: 8 },
    { arbitrary: anything, weight: 1 },
  )

type Schema = { safeParse(a: unknown): { success: boolean; data?: unknown } }

function sameAsSchema<T>(read: (a: unknown) => T | undefined, schema: Schema, answers: fc.Arbitrary<unknown>, usual: unknown[]) {
  // The readers must take the usual answers themselves, or the hot path is zod again.
  for (const a of usual) {
    const parsed = schema.safeParse(a)
    expect(parsed.success, JSON.stringify(a)).toBe(true)
    expect(read(a), JSON.stringify(a)).toStrictEqual(parsed.data)
  }
  let accepted = 0
  fc.assert(
    fc.property(answers, (a) => {
      const fast = read(a)
      const parsed = schema.safeParse(a)
      if (fast === undefined) return
      accepted++
      expect(parsed.success).toBe(true)
      expect(fast).toStrictEqual(parsed.data)
    }),
    { numRuns: 3_000 },
  )
  // The generated answers must reach the accepting path often enough to test it: settle's, with
  // the most fields, is accepted about 4% of the time (~125 of 3,000; 30 is far in its tail).
  expect(accepted).toBeGreaterThan(30)
}

describe('hand-checked answers read exactly as their zod schemas', () => {
  it('settle', () => {
    sameAsSchema(
      readSettle,
      settleAnswerSchema,
      answer({
        success: fc.boolean(),
        errorReason: textLike,
        payer: textLike,
        transaction: textLike,
        network: textLike,
        creditsRedeemed: creditsLike,
        remainingBalance: creditsLike,
        orderTx: textLike,
        creditsSettled: creditsLike,
        remainingCredits: creditsLike,
        txHash: textLike,
        extra: anything,
      }),
      [
        { success: true, payer: '0xa1', transaction: '0xt1', network: 'eip155:84532', creditsRedeemed: '5', remainingBalance: '95' },
        { success: true, creditsSettled: 5, remainingCredits: 95, txHash: '0xt1' },
        { success: false, errorReason: 'insufficient balance', creditsRedeemed: null, remainingBalance: null },
      ],
    )
  })

  it('balance, published and live shapes', () => {
    sameAsSchema(
      readBalance,
      balanceSchema,
      answer({ isSubscriber: fc.boolean(), total: creditsLike, used: creditsLike, remaining: creditsLike, balance: creditsLike, expiresAt: dateLike, planId: fc.string() }),
      [
        { isSubscriber: true, total: 100, used: 5, remaining: 95, expiresAt: null },
        { planId: '7', holderAddress: '0xa1', balance: '95', isSubscriber: true },
        { balance: '0', isSubscriber: false },
      ],
    )
  })

  it('verify', () => {
    const agentRequest = fc.oneof(fc.record({ agentRequestId: field(textLike), other: anything }, { requiredKeys: [] }), anything)
    sameAsSchema(readVerify, verifyAnswerSchema, answer({ isValid: fc.boolean(), invalidReason: textLike, agentRequestId: textLike, agentRequest, valid: fc.boolean(), reason: textLike }), [
      { isValid: true, payer: '0xa1', agentRequestId: 'ar-1' },
      { isValid: true, agentRequest: { agentRequestId: 'ar-1', agentName: 'demo' } },
      { isValid: false, invalidReason: 'insufficient balance' },
    ])
  })

  it('permission and delegation', () => {
    const token = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('', 'x'.repeat(16 * 1024), 'x'.repeat(16 * 1024 + 1)))
    sameAsSchema(readPermission, permissionAnswerSchema, answer({ accessToken: token, expiresAt: fc.oneof(dateLike, fc.integer()) }), [
      { accessToken: 'eyJ0b2tlbiI6MX0', expiresAt: '2027-01-01T00:00:00Z' },
      { accessToken: 'eyJ0b2tlbiI6MX0' },
    ])
    const id = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('', 'x'.repeat(200), 'x'.repeat(201)))
    sameAsSchema(readDelegation, delegationAnswerSchema, answer({ delegationId: id, status: fc.string() }), [{ delegationId: 'dlg-1', status: 'active' }])
  })
})
