import { afterEach, beforeEach, expect } from 'vitest'

/** An answer, read whole. */
export interface Answer {
  status: number
  headers: Headers
  text: string
  json(): Record<string, unknown>
}

export const auth = (apiKey: string) => ({ Authorization: `Bearer ${apiKey}` })

/** GET `path` on the app over real HTTP. */
export async function get(url: string, path: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Answer> {
  const res = await fetch(`${url}${path}`, { headers, signal })
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> }
}

/** A problem+json denial: exactly {type,title,status,detail,code,planId}, nothing secret anywhere. */
export function expectProblem(res: Omit<Answer, 'json'>, status: number, code: string, planId: string, secrets: string[] = []): Record<string, unknown> {
  expect(res.status, res.text).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  const body = JSON.parse(res.text) as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'planId', 'status', 'title', 'type'])
  expect(body).toMatchObject({ status, code, planId })
  expect(res.text).not.toMatch(/\bat .*:\d+:\d+/) // no stack frame
  const everything = res.text + JSON.stringify([...res.headers])
  for (const secret of secrets) expect(everything).not.toContain(secret)
  return body
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `check` stops throwing (or the time is up, and then throws its error). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 5_000): Promise<void> {
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

/** Saves the variables before each test and puts them back after it. */
export function restoreEnvAfterEach(names: string[]): void {
  let saved: Array<[string, string | undefined]> = []
  beforeEach(() => void (saved = names.map((name) => [name, process.env[name]])))
  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  })
}
