/**
 * `@plangate/proxy`: put a Nevermined payment plan in front of an existing HTTP API without
 * touching its code (see docs/PROXY.md). The CLI is `plangate-proxy` (`npx @plangate/proxy --plan 7
 * --upstream http://127.0.0.1:8080`); this is the library under it.
 *
 * @example
 * import { startProxy } from '@plangate/proxy'
 * const proxy = await startProxy({ plan: 7, upstream: 'http://127.0.0.1:8080', routes: { 'POST /v1/chat': 5, 'GET /health': 0 } })
 * process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)))
 */
export { createProxy, type Proxy } from './proxy'
export { startProxy, type RunningProxy, type StartProxyOptions } from './start'
export type { ProxyLogger, ProxyOptions, UpstreamFetch, UpstreamHeaderNames } from './options'
export type { ProxyProblemCode } from './problem'
export { compileRoutes, type CostOf } from './routes'
