/**
 * Coinbase's x402 resource server (`@x402/express`, `@x402/hono`, 2.x from npm) with the `exact`
 * EVM scheme's server side (`@x402/evm`), pointed at the stand-in facilitator: per request it
 * verifies the `payment-signature` payload with the facilitator before the route and settles it
 * after a 2xx.
 */
import { HTTPFacilitatorClient, x402ResourceServer } from '@x402/core/server'
import { ExactEvmScheme } from '@x402/evm/exact/server'
import { paymentMiddleware as expressPayment } from '@x402/express'
import { paymentMiddleware as honoPayment } from '@x402/hono'
import type { RequestHandler } from 'express'
import type { MiddlewareHandler } from 'hono'
import { X402_NETWORK, X402_SCHEME } from './facilitator'

/** Where the route's price is paid to (any address: nothing moves on loopback). */
const PAY_TO = '0x000000000000000000000000000000000000b3c4'

function resourceServer(facilitatorUrl: string): { server: x402ResourceServer; routes: Record<string, unknown> } {
  const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitatorUrl })).register(X402_NETWORK, new ExactEvmScheme())
  const routes = { 'GET /ask': { accepts: { scheme: X402_SCHEME, price: '$0.001', network: X402_NETWORK, payTo: PAY_TO }, description: 'bench route' } }
  return { server, routes }
}

export function x402Express(facilitatorUrl: string): RequestHandler {
  const { server, routes } = resourceServer(facilitatorUrl)
  return expressPayment(routes as never, server) as RequestHandler
}

export function x402Hono(facilitatorUrl: string): MiddlewareHandler {
  const { server, routes } = resourceServer(facilitatorUrl)
  return honoPayment(routes as never, server)
}
