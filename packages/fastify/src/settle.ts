import { isServed, type Lease } from '@plangate/core'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** What `requirePlan` admitted on a request: its lease, and the headers a served answer carries. */
interface Held {
  lease: Lease
  headers: Record<string, string>
}

const held = new WeakMap<FastifyRequest, Held[]>()

/** Marks an instance whose scope has the settling hooks (`plangate` registered there or above). */
export const kSettles = Symbol.for('@plangate/fastify.settles')

export function hold(request: FastifyRequest, lease: Lease, headers: Record<string, string>): void {
  const list = held.get(request)
  if (list) list.push({ lease, headers })
  else held.set(request, [{ lease, headers }])
}

/** onSend: the status is final and nothing is written yet; only a served answer says what is left. */
export function addHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const list = held.get(request)
  if (list === undefined || !isServed(reply.statusCode)) return
  for (const { headers } of list) reply.headers(headers)
}

/** onResponse: a 2xx sent whole commits; anything else (an error, a reset mid-answer) releases. */
export function settle(request: FastifyRequest, reply: FastifyReply): void {
  const served = reply.raw.writableFinished && isServed(reply.statusCode)
  for (const { lease } of take(request)) void (served ? lease.commit() : lease.release())
}

/** onRequestAbort, onError: the client went away, or the route threw; nothing is charged. */
export function release(request: FastifyRequest): void {
  for (const { lease } of take(request)) void lease.release()
}

function take(request: FastifyRequest): Held[] {
  const list = held.get(request)
  if (list === undefined) return []
  held.delete(request)
  return list
}
