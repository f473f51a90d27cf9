import { z } from 'zod'

/**
 * The Nevermined answers plangate relies on, checked with zod. Anything that does not match is a
 * contract error (503), never a guess: money depends on these numbers.
 */

/** A balance as the published API describes it, after normalisation. */
export interface NeverminedBalance {
  isSubscriber: boolean
  total: number | undefined
  used: number | undefined
  remaining: number
  /** ISO date-time, or null when the credits never expire. */
  expiresAt: string | null
}

// Credits are integers; past MAX_SAFE_INTEGER a JSON number has already been rounded, so refuse it.
export const credits = z
  .number()
  .refine((n) => Number.isSafeInteger(n) && n >= 0, 'expected a non-negative safe integer')
export const decimalCredits = z
  .string()
  .regex(/^[0-9]{1,20}$/, 'expected a decimal string')
  // zod runs this refine even when the regex failed: BigInt() must only see digits.
  .refine((s) => !/^[0-9]{1,20}$/.test(s) || BigInt(s) <= BigInt(Number.MAX_SAFE_INTEGER), 'larger than Number.MAX_SAFE_INTEGER')
  .transform((s) => Number(s))
export const creditsOrDecimal = z.union([credits, decimalCredits])
const dateTime = z.union([z.iso.datetime({ offset: true }), z.null()]).optional()

const publishedBalance = z.object({
  isSubscriber: z.boolean(),
  total: creditsOrDecimal.optional(),
  used: creditsOrDecimal.optional(),
  remaining: creditsOrDecimal,
  expiresAt: dateTime,
})

// Seen from the live API: `{ planId, holderAddress, balance: "<decimal>", isSubscriber, … }`.
const liveBalance = z.object({
  balance: creditsOrDecimal,
  isSubscriber: z.boolean().optional(),
  total: creditsOrDecimal.optional(),
  used: creditsOrDecimal.optional(),
  expiresAt: dateTime,
})

export const balanceSchema = z.union([publishedBalance, liveBalance]).transform(
  (b): NeverminedBalance => ({
    isSubscriber: b.isSubscriber ?? true,
    total: b.total,
    used: b.used,
    remaining: 'remaining' in b ? b.remaining : b.balance,
    expiresAt: b.expiresAt ?? null,
  }),
)

export const orderResponseSchema = z.object({
  success: z.boolean(),
  txHash: z.string().optional(),
  balance: balanceSchema,
})
export type OrderResponse = z.output<typeof orderResponseSchema>

export const redeemResponseSchema = z.object({
  success: z.boolean(),
  creditsRedeemed: creditsOrDecimal,
  remainingBalance: creditsOrDecimal,
})
export type RedeemResponse = z.output<typeof redeemResponseSchema>
