/**
 * What the bench uses of `@plangate/core/adapter`. That entry split off `@plangate/core`'s root
 * on 2026-12-04; a `--compare` baseline from before then has these at the root only, and the
 * bench's own code (always the current one) must load against both.
 */
type Adapter = typeof import('@plangate/core/adapter')
const adapter = (await import('@plangate/core/adapter').catch(() => import('@plangate/core'))) as Adapter

export const { admit, bearerToken, parseApiKey, paymentRequired, resolveRequirePlan } = adapter
