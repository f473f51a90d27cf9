import { GateMisconfiguredError, type PlanId } from '@plangate/core'
import { admit, credentialFrom, headerValue, resolveRequirePlan, sharedGate, toProblem, X402_HEADERS, type Admission } from '@plangate/core/adapter'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { hold, kSettles } from './settle'
import type { FastifyRequirePlanOptions } from './types'

/**
 * A `preHandler` that charges the request to a Nevermined plan: `cost` credits of `planId`, from
 * the caller whose key is on the request. Reached as `app.requirePlan()`, which the plugin adds. The route sees `request.balance`; a 2xx sent whole
 * redeems the credits, anything else (an error, a client that goes away) gives them back. Needs
 * the `plangate` plugin registered in the route's scope or above: its hooks settle the credits.
 *
 * Throws a `TypeError` for a bad plan id or option, and a `GateMisconfiguredError` when no `gate`
 * is given and `NVM_API_KEY` is not set — when it is created.
 *
 * @example
 * await app.register(plangate)
 * app.post('/ask', { preHandler: app.requirePlan(7, { gate, cost: 2 }) }, async (request) => request.balance)
 */
export function requirePlan(planId: PlanId, options?: FastifyRequirePlanOptions): preHandlerAsyncHookHandler {
  const config = resolveRequirePlan<FastifyRequest, [FastifyRequest, FastifyReply]>(planId, options, {
    credential: (request) => credentialFrom(requestHeader(request, 'authorization'), requestHeader(request, X402_HEADERS.paymentSignature)),
    resource: (request) => ({ url: request.url, method: request.method }),
  })
  const gate = options?.gate ?? sharedGate()

  return async function requirePlanHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if ((request.server as unknown as Record<symbol, unknown>)[kSettles] !== true) return deny(reply, notRegistered(config.planId))
    let admission = admit(config, gate, request)
    if (admission instanceof Promise) admission = await admission
    if (!admission.allowed) return deny(reply, admission)
    if (reply.raw.destroyed) {
      // The client left while the credits were being reserved: nothing will be answered.
      void admission.lease.release()
      reply.hijack()
      return
    }
    hold(request, reply, admission.lease, admission.headers, admission.receipt === false ? undefined : admission.receipt, config.usage)
    request.balance = admission.lease.balance
  }
}

/**
 * The request header `name` (lower case), repeated ones joined with ", ". Every header plangate
 * reads goes through here.
 */
function requestHeader(request: FastifyRequest, name: string): string | undefined {
  return headerValue(request.headers[name])
}

function deny(reply: FastifyReply, denial: Pick<Extract<Admission, { allowed: false }>, 'status' | 'headers' | 'body'>): void {
  // A string, so that no response schema of the route reshapes the problem document.
  void reply.code(denial.status).headers(denial.headers).send(JSON.stringify(denial.body))
}

/** Without the plugin's hooks the credits could never be settled: refuse rather than serve free. */
function notRegistered(planId: string) {
  const error = new GateMisconfiguredError('requirePlan() needs the @plangate/fastify plugin registered in this scope: app.register(plangate).')
  return toProblem(error, planId)
}
