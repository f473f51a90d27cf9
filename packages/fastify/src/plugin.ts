/** The plangate Fastify plugin: the hooks that settle what `requirePlan()` admits, once per scope. */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { requirePlan } from './require-plan'
import { abandon, addHeaders, kSettles, release, settle } from './settle'
import type { PlangateOptions } from './types'

/** Options Fastify itself reads from `register()` and passes on to every plugin. */
const FASTIFY_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])

const plugin: FastifyPluginAsync<PlangateOptions> = async (fastify, options) => {
  const { planId, ...rest } = options
  const planOptions = Object.fromEntries(Object.entries(rest).filter(([name]) => !FASTIFY_OPTIONS.has(name)))
  // Checked before any hook is added: a bad option fails app.ready() with the TypeError.
  const guard = planId === undefined ? undefined : requirePlan(planId, planOptions)
  if (planId === undefined && Object.keys(planOptions).length > 0) {
    throw new TypeError(`plangate: the plugin's options ${Object.keys(planOptions).join(', ')} need a "planId" too.`)
  }
  // Once per scope, however often the plugin is registered in it or above.
  if (!fastify.hasDecorator(kSettles)) {
    fastify.decorate(kSettles, true)
    // The guard is reachable only through the plugin: a scope without its hooks has no requirePlan.
    fastify.decorate('requirePlan', requirePlan)
    if (!fastify.hasRequestDecorator('balance')) fastify.decorateRequest('balance', null as never)
    fastify.addHook('onSend', (request, reply, payload, next) => {
      addHeaders(request, reply, payload).then(
        () => next(null, payload),
        (error: Error) => next(error),
      )
    })
    fastify.addHook('onResponse', (request, _reply, next) => {
      settle(request)
      next()
    })
    fastify.addHook('onError', (request, _reply, _error, next) => {
      release(request)
      next()
    })
    fastify.addHook('onRequestAbort', (request, next) => {
      abandon(request)
      next()
    })
  }
  if (guard) fastify.addHook('preHandler', guard)
}

/**
 * The Fastify 5 plugin. Registered with a `planId` (and `requirePlan`'s options), it charges every
 * route of the scope it is registered in; registered without, it adds `app.requirePlan()`, a
 * preHandler per route, and settles what those admit.
 *
 * @example
 * await app.register(plangate, { planId: 7, gate })         // every route below: 1 credit of plan 7
 * app.get('/ask', async (request) => request.balance)
 *
 * await app.register(plangate)                               // per route
 * app.post('/long', { preHandler: app.requirePlan(7, { cost: 5 }) }, handler)
 */
export const plangate = fp(plugin, { fastify: '5.x', name: '@plangate/fastify' })
