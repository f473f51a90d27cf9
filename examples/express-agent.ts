import { pathToFileURL } from 'node:url'
import express from 'express'
import type { PlanGate } from '@plangate/core'
import { requirePlan } from '@plangate/express'
import { agentSetup, answer, closeOnSignals, portOf } from './agent-setup'

/** An Express agent whose `POST /ask` costs one credit of `planId`. */
export function createExpressAgent(options: { gate: PlanGate; planId: string }): express.Express {
  const app = express()
  app.use(express.json({ limit: '16kb' }))
  app.get('/health', (_req, res) => void res.json({ ok: true }))
  app.post('/ask', requirePlan(options.planId, { gate: options.gate }), (req, res) => {
    res.json({ answer: answer(req.body?.question), balance: req.balance })
  })
  return app
}

async function main() {
  const setup = agentSetup()
  const port = Number(process.env.PORT ?? 3000)
  const app = createExpressAgent(setup)
  const server = app.listen(port, () => {
    const key = setup.subscriberKey ?? '$SUBSCRIBER_KEY'
    const url = `http://localhost:${portOf(server)}`
    console.log(`plangate Express agent on ${url} (${setup.mode}, plan ${setup.planId})`)
    console.log('\nTry it (each call spends a credit; the plan is ordered again when they run out):\n')
    console.log(
      `curl -s -X POST ${url}/ask -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' -d '{"question":"what does plangate do?"}'\n`,
    )
  })
  closeOnSignals(server, setup)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main()
