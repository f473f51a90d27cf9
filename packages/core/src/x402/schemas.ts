import { z } from 'zod'
import { creditsOrDecimal } from '../schemas'

/**
 * The facilitator's answers, as Nevermined's SDK v1.11.0 reads them from the live API, with the
 * published reference's shapes accepted too. Checked with zod like every other answer: money
 * depends on these numbers.
 */

const text = z.string().max(2_000)

/** `POST /x402/verify`, normalised. */
export interface VerifyAnswer {
  valid: boolean
  /** Why not, as the facilitator says (never contains the token: it is checked before use). */
  reason: string | undefined
  agentRequestId: string | undefined
}

export const verifyAnswerSchema = z
  .union([
    z.object({ isValid: z.boolean(), invalidReason: text.nullish(), agentRequestId: text.nullish(), agentRequest: z.object({ agentRequestId: text.nullish() }).passthrough().nullish() }),
    z.object({ valid: z.boolean(), reason: text.nullish(), invalidReason: text.nullish() }),
  ])
  .transform(
    (a): VerifyAnswer =>
      'isValid' in a
        ? { valid: a.isValid, reason: a.invalidReason ?? undefined, agentRequestId: a.agentRequest?.agentRequestId ?? a.agentRequestId ?? undefined }
        : { valid: a.valid, reason: a.invalidReason ?? a.reason ?? undefined, agentRequestId: undefined },
  )

/** `POST /x402/settle`, normalised. */
export interface SettleAnswer {
  success: boolean
  reason: string | undefined
  transaction: string | undefined
  network: string | undefined
  payer: string | undefined
  creditsRedeemed: number | undefined
  /** The holder's balance after the burn, when the facilitator says. */
  remainingBalance: number | undefined
  /** The order the facilitator placed first (auto top-up), if any. */
  orderTx: string | undefined
}

export const settleAnswerSchema = z
  .union([
    z.object({
      success: z.boolean(),
      errorReason: text.nullish(),
      payer: text.nullish(),
      transaction: text.nullish(),
      network: text.nullish(),
      creditsRedeemed: creditsOrDecimal.nullish(),
      remainingBalance: creditsOrDecimal.nullish(),
      orderTx: text.nullish(),
      // The published shape's names, in case an API or proxy answers with them.
      creditsSettled: creditsOrDecimal.nullish(),
      remainingCredits: creditsOrDecimal.nullish(),
      txHash: text.nullish(),
    }),
  ])
  .transform(
    (a): SettleAnswer => ({
      success: a.success,
      reason: a.errorReason ?? undefined,
      transaction: a.transaction ?? a.txHash ?? undefined,
      network: a.network ?? undefined,
      payer: a.payer ?? undefined,
      creditsRedeemed: a.creditsRedeemed ?? a.creditsSettled ?? undefined,
      remainingBalance: a.remainingBalance ?? a.remainingCredits ?? undefined,
      orderTx: a.orderTx ?? undefined,
    }),
  )

/** `POST /x402/permissions`: the token, and when it stops working if the API says. */
export const permissionAnswerSchema = z
  .object({ accessToken: z.string().min(1).max(16 * 1024), expiresAt: z.union([z.iso.datetime({ offset: true }), z.number()]).nullish() })
  .passthrough()
  .transform((a) => ({ accessToken: a.accessToken, expiresAt: typeof a.expiresAt === 'string' ? Date.parse(a.expiresAt) : (a.expiresAt ?? undefined) }))

/** `POST /delegation/create`. */
export const delegationAnswerSchema = z.object({ delegationId: z.string().min(1).max(200) }).passthrough().transform((a) => ({ delegationId: a.delegationId }))

/** What plangate reads of `GET /protocol/plans/{planId}` (the SDK reads the first two). */
export interface PlanAnswer {
  /** False for fiat (card) plans; the SDK treats anything else as crypto. */
  isCrypto: boolean
  fiatProvider: string | undefined
  /** Credits one order grants, when the API says. */
  creditsPerOrder: number | undefined
  /** The sum of the price amounts, in the token's smallest unit (USDC: 6 decimals; fiat: cents). */
  priceUnits: bigint | undefined
}

const bigAmount = z.union([z.string().regex(/^[0-9]{1,40}$/), z.number().int().nonnegative()]).transform((v) => BigInt(v))

export const planAnswerSchema = z
  .object({
    registry: z
      .object({
        price: z.object({ isCrypto: z.boolean().nullish(), amounts: z.array(bigAmount).max(100).nullish() }).passthrough().nullish(),
        credits: z.object({ amount: bigAmount.nullish() }).passthrough().nullish(),
      })
      .passthrough()
      .nullish(),
    metadata: z.object({ plan: z.object({ fiatPaymentProvider: text.nullish() }).passthrough().nullish() }).passthrough().nullish(),
  })
  .passthrough()
  .transform((a): PlanAnswer => {
    const amounts = a.registry?.price?.amounts
    const credits = a.registry?.credits?.amount
    return {
      isCrypto: a.registry?.price?.isCrypto !== false,
      fiatProvider: a.metadata?.plan?.fiatPaymentProvider ?? undefined,
      creditsPerOrder: credits !== undefined && credits !== null && credits > 0n && credits <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(credits) : undefined,
      priceUnits: amounts ? amounts.reduce((sum, amount) => sum + amount, 0n) : undefined,
    }
  })
