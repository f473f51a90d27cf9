import { z } from 'zod'
import type { NeverminedBalance } from './schemas'
import type { SettleAnswer, VerifyAnswer } from './x402/schemas'

/**
 * Hand-checked readers of the answers every request's settlement waits on (settle, balance,
 * verify, and the token calls): the same checks as their zod schemas, without zod's generic
 * machinery on the hot path. Each returns the schema's output for an answer its schema accepts
 * in one of the usual shapes, and `undefined` for anything else; the client then runs the zod
 * schema itself, which has the last word (it accepts the unusual shapes too, and says what is
 * wrong with an answer that breaks the contract). So an answer is never accepted here that its
 * schema would refuse, and never read differently: test/answers.test.ts holds them to it.
 */

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const DECIMAL = /^[0-9]{1,20}$/
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** `creditsOrDecimal`: a non-negative safe integer, or a decimal string of one. `NaN`: neither. */
function credits(value: unknown): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : NaN
  // Up to 15 digits is always safe; longer strings need the exact comparison.
  if (typeof value === 'string' && DECIMAL.test(value)) return value.length <= 15 || BigInt(value) <= MAX_SAFE ? Number(value) : NaN
  return NaN
}

/** `creditsOrDecimal.optional()` (`nullish`: null too): `undefined` when absent, `NaN` when invalid. */
function optionalCredits(value: unknown, nullish: boolean): number | undefined {
  if (value === undefined || (nullish && value === null)) return undefined
  return credits(value)
}

const bad = (n: number | undefined) => n !== undefined && Number.isNaN(n)

/** `text.nullish()` (at most 2,000 characters): the string, `undefined`, or `false` when invalid. */
function text(value: unknown): string | undefined | false {
  if (value === undefined || value === null) return undefined
  return typeof value === 'string' && value.length <= 2_000 ? value : false
}

// The date-time rule is zod's own, precompiled once: ISO 8601 with an offset is easy to get subtly different.
const isoDateTime = z.iso.datetime({ offset: true })

/** `dateTime` of the balance schemas: absent, null, or an ISO date-time with offset. `false`: invalid. */
function expiry(value: unknown): string | null | undefined | false {
  if (value === undefined || value === null) return value
  return typeof value === 'string' && isoDateTime.safeParse(value).success ? value : false
}

/** `balanceSchema`'s output, or undefined (see the file's comment). */
export function readBalance(a: unknown): NeverminedBalance | undefined {
  if (!isObject(a)) return undefined
  const total = optionalCredits(a.total, false)
  const used = optionalCredits(a.used, false)
  const expiresAt = expiry(a.expiresAt)
  if (bad(total) || bad(used) || expiresAt === false) return undefined
  // The published shape first, as the union tries it.
  const remaining = credits(a.remaining)
  if (typeof a.isSubscriber === 'boolean' && !Number.isNaN(remaining)) return { isSubscriber: a.isSubscriber, total, used, remaining, expiresAt: expiresAt ?? null }
  const balance = credits(a.balance)
  if (Number.isNaN(balance) || (a.isSubscriber !== undefined && typeof a.isSubscriber !== 'boolean')) return undefined
  return { isSubscriber: (a.isSubscriber as boolean | undefined) ?? true, total, used, remaining: balance, expiresAt: expiresAt ?? null }
}

/** `settleAnswerSchema`'s output, or undefined. */
export function readSettle(a: unknown): SettleAnswer | undefined {
  if (!isObject(a) || typeof a.success !== 'boolean') return undefined
  const reason = text(a.errorReason)
  const payer = text(a.payer)
  const transaction = text(a.transaction)
  const network = text(a.network)
  const orderTx = text(a.orderTx)
  const txHash = text(a.txHash)
  if (reason === false || payer === false || transaction === false || network === false || orderTx === false || txHash === false) return undefined
  const creditsRedeemed = optionalCredits(a.creditsRedeemed, true)
  const remainingBalance = optionalCredits(a.remainingBalance, true)
  const creditsSettled = optionalCredits(a.creditsSettled, true)
  const remainingCredits = optionalCredits(a.remainingCredits, true)
  if (bad(creditsRedeemed) || bad(remainingBalance) || bad(creditsSettled) || bad(remainingCredits)) return undefined
  return {
    success: a.success,
    reason,
    transaction: transaction ?? txHash,
    network,
    payer,
    creditsRedeemed: creditsRedeemed ?? creditsSettled,
    remainingBalance: remainingBalance ?? remainingCredits,
    orderTx,
  }
}

/** `verifyAnswerSchema`'s output for the live shape (`isValid`), or undefined. */
export function readVerify(a: unknown): VerifyAnswer | undefined {
  if (!isObject(a) || typeof a.isValid !== 'boolean') return undefined
  const reason = text(a.invalidReason)
  const agentRequestId = text(a.agentRequestId)
  if (reason === false || agentRequestId === false) return undefined
  let nested: string | undefined
  if (a.agentRequest !== undefined && a.agentRequest !== null) {
    if (!isObject(a.agentRequest)) return undefined
    const id = text(a.agentRequest.agentRequestId)
    if (id === false) return undefined
    nested = id
  }
  return { valid: a.isValid, reason, agentRequestId: nested ?? agentRequestId }
}

/** `permissionAnswerSchema`'s output, or undefined. */
export function readPermission(a: unknown): { accessToken: string; expiresAt: number | undefined } | undefined {
  if (!isObject(a) || typeof a.accessToken !== 'string' || a.accessToken.length < 1 || a.accessToken.length > 16 * 1024) return undefined
  const at = a.expiresAt
  if (at === undefined || at === null) return { accessToken: a.accessToken, expiresAt: undefined }
  if (typeof at === 'number' && Number.isFinite(at)) return { accessToken: a.accessToken, expiresAt: at }
  if (typeof at === 'string' && isoDateTime.safeParse(at).success) return { accessToken: a.accessToken, expiresAt: Date.parse(at) }
  return undefined
}

/** `delegationAnswerSchema`'s output, or undefined. */
export function readDelegation(a: unknown): { delegationId: string } | undefined {
  if (!isObject(a) || typeof a.delegationId !== 'string' || a.delegationId.length < 1 || a.delegationId.length > 200) return undefined
  return { delegationId: a.delegationId }
}
