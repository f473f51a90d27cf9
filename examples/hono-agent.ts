import type { Server } from 'node:http'
import { pathToFileURL } from 'node:url'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { PlanGate } from '@plangate/core'
import { requirePlan, type PlanVariables } from '@plangate/hono'
import { agentSetup, answer, closeOnSignals } from './agent-setup'

/** A Hono agent whose `POST /ask` costs one credit of `planId`. Runs anywhere Hono runs. */
export function createHonoAgent(options: { gate: PlanGate; planId: string }) {
  const app = new Hono<{ Variables: PlanVariables }>()
  app.get('/health', (c) => c.json({ ok: true }))
  app.post('/ask', requirePlan(options.planId, { gate: options.gate }), async (c) => {
    const body = await c.req.json().catch(() => ({}))
    return c.json({ answer: answer((body as { question?: unknown }).question), balance: c.get('balance') })
  })
  return app
}

function main() {
  const setup = agentSetup()
  const port = Number(process.env.PORT ?? 3000)
  const server = serve({ fetch: createHonoAgent(setup).fetch, port }, (info) => {
    const key = setup.subscriberKey ?? '$SUBSCRIBER_KEY'
    const url = `http://localhost:${info.port}`
    console.log(`plangate Hono agent on ${url} (${setup.mode}, plan ${setup.planId})\n`)
    console.log(
      `curl -s -X POST ${url}/ask -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' -d '{"question":"what does plangate do?"}'\n`,
    )
  }) as Server
  closeOnSignals(server, setup)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()
