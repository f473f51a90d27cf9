/**
 * The same app on Bun: `bun --conditions=plangate-source bun.ts` (or `bun worker.ts`, which
 * listens on every interface). Bun serves a default export that has `fetch`, with its options.
 */
import worker from './worker'

export default {
  fetch: worker.fetch,
  hostname: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 8787),
}
