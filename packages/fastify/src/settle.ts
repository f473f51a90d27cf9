import { commitForReceipt, isServed, X402_HEADERS, type Lease } from '@plangate/core'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** What `requirePlan` admitted on a request: its lease, and the headers a served answer carries. */
interface Held {
  lease: Lease
  headers: Record<string, string>
  /** An x402 payer with immediate settlement: how long the answer waits for the settle's receipt. */
  receiptWaitMs: number | undefined
}

const held = new WeakMap<FastifyRequest, Held[]>()

/** Marks an instance whose scope has the settling hooks (`plangate` registered there or above). */
export const kSettles = Symbol.for('@plangate/fastify.settles')

export function hold(request: FastifyRequest, lease: Lease, headers: Record<string, string>, receiptWaitMs?: number): void {
  const list = held.get(request)
  if (list) list.push({ lease, headers, receiptWaitMs })
  else held.set(request, [{ lease, headers, receiptWaitMs }])
}

/**
 * onSend: the status is final and nothing is written yet; only a served answer says what is left.
 * An x402 payer settled at once also gets the settle's receipt (`payment-response`).
 */
export async function addHeaders(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const list = held.get(request)
  if (list === undefined || !isServed(reply.statusCode)) return
  for (const { headers } of list) reply.headers(headers)
  for (const { lease, receiptWaitMs } of list) {
    if (receiptWaitMs === undefined) continue
    const value = await commitForReceipt(lease, receiptWaitMs).header
    if (value) reply.header(X402_HEADERS.paymentResponse, value)
  }
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
