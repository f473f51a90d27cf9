/**
 * The entry point for workerd (Cloudflare Workers), Deno (`deno serve`) and Bun (`bun worker.ts`):
 * all three serve a module whose default export has a `fetch(request, env, ctx)`.
 * Bundle it for workerd with `pnpm --filter @plangate/examples build:worker`.
 */
import { createWorkerApp } from './app'

const app = createWorkerApp()

export default { fetch: app.fetch }
