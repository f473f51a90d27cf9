import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LocalLedger } from '@plangate/core/local'
import { expect } from 'vitest'

export { secretsOf, silent, subscribe, world, type Call } from '../../../test/helpers/world'

/** A problem+json denial: exactly {type,title,status,detail,code,planId}, nothing secret anywhere. */
export function expectProblem(
  res: { status: number; headers: Record<string, string | string[] | undefined>; text: string },
  status: number,
  code: string,
  planId: string,
  secrets: string[] = [],
): Record<string, unknown> {
  expect(res.status).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  const body = JSON.parse(res.text) as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'planId', 'status', 'title', 'type'])
  expect(body).toMatchObject({ status, code, planId })
  expect(res.text).not.toMatch(/\bat .*:\d+:\d+/) // no stack frame
  const everything = res.text + JSON.stringify(res.headers)
  for (const secret of secrets) expect(everything).not.toContain(secret)
  return body
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `check` stops throwing (or the time is up, and then throws its error). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(10)
    }
  }
}

/** Serves the ledger over real HTTP on a free port (for gates that use globalThis.fetch). */
export async function serveLedger(ledger: LocalLedger): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const headers = Object.entries(req.headers).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value] as [string, string]] : []))
    const answer = await ledger.fetch(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    })
    res.writeHead(answer.status, Object.fromEntries(answer.headers))
    res.end(Buffer.from(await answer.arrayBuffer()))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
