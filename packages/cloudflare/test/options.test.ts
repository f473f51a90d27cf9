import { describe, expect, it } from 'vitest'
// Not the package index: that also exports the Durable Object class, whose `cloudflare:workers`
// exists only on workerd (test/runtimes/durable-object.test.ts runs the store there).
import { createDurableObjectStore, type PlanGateStoreNamespace } from '../src/durable-object-store'

const namespace = { idFromName: (name: string) => ({ name }), get: () => ({}) } as unknown as PlanGateStoreNamespace

describe('createDurableObjectStore options', () => {
  it('takes a namespace binding, with or without options', () => {
    expect(typeof createDurableObjectStore(namespace).reserve).toBe('function')
    expect(typeof createDurableObjectStore(namespace, { timeoutMs: 250 }).lockOrder).toBe('function')
  })

  it.each([undefined, null, {}, { idFromName: () => ({}) }, 'PLANGATE_STORE'])('refuses %j as the namespace, naming it', (bad) => {
    expect(() => createDurableObjectStore(bad as unknown as PlanGateStoreNamespace)).toThrow(new TypeError('plangate: invalid option "namespace": expected the Durable Object namespace binding of PlanGateStore (env.PLANGATE_STORE).'))
  })

  it.each([0, -1, 1.5, Number.NaN, Infinity, '100'])('refuses timeoutMs %j, naming it', (timeoutMs) => {
    expect(() => createDurableObjectStore(namespace, { timeoutMs: timeoutMs as number })).toThrow(TypeError)
    expect(() => createDurableObjectStore(namespace, { timeoutMs: timeoutMs as number })).toThrow(/invalid option "timeoutMs"/)
  })

  it('refuses options that are not an object', () => {
    expect(() => createDurableObjectStore(namespace, 5 as never)).toThrow(/invalid option "options"/)
  })
})
