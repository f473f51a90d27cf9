import { expect } from 'vitest'

export { secretsOf, silent, subscribe, world, type Call } from '../../../test/helpers/world'

/** A problem+json denial: exactly {type,title,status,detail,code,planId}, nothing secret anywhere. */
export async function expectProblem(res: Response, status: number, code: string, planId: string, secrets: string[] = []) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  const text = await res.text()
  const body = JSON.parse(text) as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'planId', 'status', 'title', 'type'])
  expect(body).toMatchObject({ status, code, planId })
  expect(text).not.toMatch(/\bat .*:\d+:\d+/) // no stack frame
  const everything = text + JSON.stringify([...res.headers])
  for (const secret of secrets) expect(everything).not.toContain(secret)
  return body
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
