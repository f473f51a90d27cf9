import { type Lease } from '@plangate/core'
import { abortBalance, commitForReceipt, endLease, isServed, X402_HEADERS, type ReceiptWait, type UsageOf } from '@plangate/core/adapter'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** What `requirePlan` admitted on a request: its lease, and the headers a served answer carries. */
interface Held {
  lease: Lease
  reply: FastifyReply
  headers: Record<string, string>
  /** An x402 payer with immediate settlement: how long the answer waits for the settle's receipt. */
  receipt: ReceiptWait | undefined
  /** A usage cost's `usage`. */
  usage: Usage | undefined
}

type Usage = (request: FastifyRequest, reply: FastifyReply) => number | Promise<number>

function usageOf(held: Held, request: FastifyRequest): UsageOf | undefined {
  const { usage, reply } = held
  return usage === undefined ? undefined : () => usage(request, reply)
}

const held = new WeakMap<FastifyRequest, Held[]>()

/** Marks an instance whose scope has the settling hooks (`plangate` registered there or above). */
export const kSettles = Symbol.for('@plangate/fastify.settles')

export function hold(request: FastifyRequest, reply: FastifyReply, lease: Lease, headers: Record<string, string>, receipt: ReceiptWait | undefined, usage: Usage | undefined): void {
  const list = held.get(request)
  const one = { lease, reply, headers, receipt, usage }
  if (list) list.push(one)
  else held.set(request, [one])
}

/**
 * onSend: the status is final and nothing is written yet; only a served answer says what is left.
 * An x402 payer settled at once also gets the settle's receipt (`payment-response`).
 */
export async function addHeaders(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<void> {
  const list = held.get(request)
  if (list === undefined || !isServed(reply.statusCode)) return
  for (const { headers } of list) reply.headers(headers)
  for (const one of list) {
    // A stream waits for nothing: it is charged as it ends (what it used is known only then).
    if (one.receipt === undefined || (one.receipt.until === 'store' && isStream(payload))) continue
    const value = await commitForReceipt(one.lease, one.receipt, usageOf(one, request)).header
    if (value) reply.header(X402_HEADERS.paymentResponse, value)
  }
}

/**
 * onResponse: a 2xx sent whole is charged (what it used, when priced by usage), one cut off
 * mid-answer what it reported; anything else (an error status, a reset before the head) releases.
 */
export function settle(request: FastifyRequest): void {
  end(request)
}

/** onRequestAbort: the client went away; a 2xx already under way is charged what it reported. */
export function abandon(request: FastifyRequest): void {
  end(request)
}

/** onError: the route threw; nothing is charged. */
export function release(request: FastifyRequest): void {
  for (const { lease } of take(request)) void lease.release()
}

function end(request: FastifyRequest): void {
  for (const one of take(request)) {
    const raw = one.reply.raw
    const ending = !isServed(raw.statusCode) ? 'failed' : raw.writableFinished ? 'served' : raw.headersSent ? 'cut' : 'failed'
    if (!raw.writableFinished) abortBalance(one.lease.balance)
    void endLease(one.lease, ending, usageOf(one, request))
  }
}

function isStream(payload: unknown): boolean {
  return typeof (payload as { pipe?: unknown } | null)?.pipe === 'function'
}

function take(request: FastifyRequest): Held[] {
  const list = held.get(request)
  if (list === undefined) return []
  held.delete(request)
  return list
}
