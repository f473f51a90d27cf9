/**
 * The baseline plangate is compared with in the upstream-call counts: a middleware that checks
 * every request upstream (read the balance; order when it is short) and redeems every served
 * request before answering. Two calls per request at best. Not for use: it has no cache, no
 * single flight, and a burst on an empty balance orders once per request.
 */
import { NeverminedClient } from '@plangate/core'
import { bearerToken, parseApiKey } from '../../lib/core-adapter'
import type { MiddlewareHandler } from 'hono'

export function naivePlanMiddleware(options: { planId: string; agentKey: string; baseUrl: string; fetch: typeof fetch }): MiddlewareHandler {
  const client = new NeverminedClient({ baseUrl: options.baseUrl, fetch: options.fetch, timeoutMs: 5_000 })
  return async (c, next) => {
    const key = bearerToken(c.req.header('authorization'))
    if (key === undefined) return c.json({ error: 'no key' }, 401)
    const holderAddress = parseApiKey(key).address
    let balance = await client.balance(options.planId, holderAddress, key)
    if (balance.remaining < 1) balance = (await client.order(options.planId, key)).balance
    if (balance.remaining < 1) return c.json({ error: 'no credits' }, 402)
    await next()
    if (c.res.status >= 200 && c.res.status < 300) {
      await client.redeem({ planId: options.planId, holderAddress, amount: 1, proof: crypto.randomUUID() }, options.agentKey)
    }
  }
}
