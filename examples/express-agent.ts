import { STATUS_CODES } from 'node:http'
import { pathToFileURL } from 'node:url'
import express, { type NextFunction, type Request, type Response } from 'express'
import type { PlanGate } from '@plangate/core'
import { requirePlan } from '@plangate/express'
import { statelessHandler } from '@plangate/mcp/node'
import { agentSetup, answer, closeOnSignals, portOf } from './agent-setup'
import { createMcpAgent, mcpInstructions } from './mcp-agent'

/**
 * An Express agent whose `POST /ask` costs one credit of `planId`, and the same as an MCP server
 * on `/mcp` (its tool `ask`, one credit; answered as plain JSON, which curl shows best).
 */
export function createExpressAgent(options: { gate: PlanGate; planId: string }): express.Express {
  const app = express()
  app.use(express.json({ limit: '16kb' }))
  app.get('/health', (_req, res) => void res.json({ ok: true }))
  app.post('/ask', requirePlan(options.planId, { gate: options.gate }), (req, res) => {
    res.json({ answer: answer(req.body?.question), balance: req.balance })
  })
  app.all('/mcp', statelessHandler(() => createMcpAgent(options), { transport: { enableJsonResponse: true } }))
  app.use((_req, res) => void problem(res, 404, 'No such route.'))
  app.use(answerErrors)
  return app
}

/**
 * Errors as problem+json (RFC 9457), never Express's HTML page, which shows the stack outside
 * production. express.json() fails with a 400 for malformed JSON and a 413 past its limit, before
 * requirePlan runs: nothing is charged for them.
 */
function answerErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(error)
  const { status, type } = (error ?? {}) as { status?: unknown; type?: unknown }
  if (type === 'entity.parse.failed') return problem(res, 400, 'The request body is not valid JSON.')
  if (type === 'entity.too.large') return problem(res, 413, 'The request body is larger than 16 kB.')
  if (typeof status === 'number' && status >= 400 && status < 500) return problem(res, status, 'The request could not be read.')
  console.error(`express-agent: ${error instanceof Error ? error.message : String(error)}`)
  problem(res, 500, 'The agent failed; nothing was charged.')
}

function problem(res: Response, status: number, detail: string): void {
  res.status(status).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail }))
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
    console.log(`The same agent is a paid MCP server on ${url}/mcp (tool "ask", one credit; "about" is free). A tool call with the same key:\n`)
    console.log(`${mcpInstructions(url, key)}\n`)
  })
  closeOnSignals(server, setup)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main()
