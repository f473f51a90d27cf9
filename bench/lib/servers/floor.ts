/**
 * The floor: the least that any middleware charging a plan per request must do on a warm request,
 * written as cheaply as this harness knows how, with none of plangate's code. Its ratio to bare is
 * the best any implementation could reach, so a target above it cannot be met by any.
 *
 * What it does, and why each step is unavoidable (SPEC §2–§4):
 * - read `Authorization: Bearer <key>`: the caller's key is the credential;
 * - SHA-256 the whole key (the runtime's native hash): the key may never be a cache key;
 * - one Map lookup by that digest, and take one credit off the balance found: the cached balance;
 * - hand the balance to the route (`req.balance`, `c.get('balance')`);
 * - learn the route's final status, to keep the credit (2xx) or give it back;
 * - the two success headers.
 *
 * What it leaves out makes it cheaper still, never dearer: no upstream check of an unknown key (every
 * key is taken as known and funded), no expiry, no settlement, no spend guard, no problem answers,
 * and on Express it does not take its headers off a failed answer.
 */
import { createHash, type BinaryLike } from 'node:crypto'
import * as crypto from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { RequestHandler } from 'express'

const BEARER = /^\s*Bearer\s+(\S+)\s*$/i
/** What every key the floor sees is taken to hold. */
export const FUNDED = 1_000_000_000

/** `crypto.hash` where Node has it (≥ 20.12), the one-shot native hash plangate uses too. */
const nativeHash = (crypto as { hash?: (algorithm: string, data: BinaryLike, encoding: 'hex') => string }).hash
const sha256 = nativeHash
  ? (text: string) => nativeHash('sha256', text, 'hex')
  : (text: string) => createHash('sha256').update(text).digest('hex')

export interface FloorBalance {
  remaining: number
}

function balanceOf(balances: Map<string, FloorBalance>, key: string): FloorBalance {
  const digest = sha256(key)
  let balance = balances.get(digest)
  if (balance === undefined) balances.set(digest, (balance = { remaining: FUNDED }))
  balance.remaining -= 1
  return balance
}

/** `balances`: the digest → balance map, passed in by the test that checks what the floor keys it by. */
export function expressFloor(planId: string, balances = new Map<string, FloorBalance>()): RequestHandler {
  return function floor(req, res, next) {
    const key = BEARER.exec(req.headers.authorization ?? '')?.[1]
    if (key === undefined) return void res.status(401).end()
    const balance = balanceOf(balances, key)
    ;(req as { balance?: unknown }).balance = balance
    res.setHeader('X-Credits-Remaining', String(balance.remaining))
    res.setHeader('X-Plan-Id', planId)
    res.on('close', () => {
      if (!(res.writableFinished && res.statusCode >= 200 && res.statusCode < 300)) balance.remaining += 1
    })
    next()
  }
}

/** On @hono/node-server (it reads the Node request and response from `c.env`). */
export function honoFloor(planId: string, balances = new Map<string, FloorBalance>()): MiddlewareHandler {
  return async function floor(c, next) {
    // The Node request's raw headers, as plangate reads them on @hono/node-server (c.req.header()
    // would build a Headers of every header first, and Node's `headers` an object of them).
    const { incoming, outgoing } = c.env as { incoming: { rawHeaders: string[] }; outgoing: { setHeader(name: string, value: string): void } }
    const raw = incoming.rawHeaders
    let authorization = ''
    for (let i = 0; i < raw.length; i += 2) if (raw[i] === 'authorization' || raw[i] === 'Authorization') authorization = raw[i + 1]!
    const key = BEARER.exec(authorization)?.[1]
    if (key === undefined) return c.body(null, 401)
    const balance = balanceOf(balances, key)
    c.set('balance' as never, balance as never)
    await next()
    if (c.res.status >= 200 && c.res.status < 300) {
      outgoing.setHeader('X-Credits-Remaining', String(balance.remaining))
      outgoing.setHeader('X-Plan-Id', planId)
    } else balance.remaining += 1
  }
}
