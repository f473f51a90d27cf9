/** The same app on Node, served by `@hono/node-server`: `PORT=8787 tsx --conditions=plangate-source node.ts`. */
import { serve } from '@hono/node-server'
import worker from './worker'

const port = Number(process.env.PORT ?? 8787)
const hostname = process.env.HOST ?? '127.0.0.1'
const server = serve({ fetch: worker.fetch, port, hostname }, () => console.log(`plangate Hono agent (Node) on http://${hostname}:${port}`))
process.on('SIGTERM', () => server.close())
process.on('SIGINT', () => server.close())
