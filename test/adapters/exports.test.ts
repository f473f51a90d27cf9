import * as reexport from '@plangate/core/reexport'
import * as core from '@plangate/core'
import * as adapter from '@plangate/core/adapter'
import * as store from '@plangate/core/store'
import * as express from '@plangate/express'
import * as fastify from '@plangate/fastify'
import * as hono from '@plangate/hono'
import * as koa from '@plangate/koa'
import * as mcp from '@plangate/mcp'
import { describe, expect, it } from 'vitest'

// Every adapter hands its users the same gate and errors, from one list in core.
const adapters = { express, fastify, hono, koa, mcp } as Record<string, Record<string, unknown>>
const names = Object.keys(reexport)

describe('what every adapter re-exports from core', () => {
  it('is a list of the gate and every error class', () => {
    expect(names).toEqual(expect.arrayContaining(['createPlanGate', 'isPlanGateError', 'StoreUnavailableError', 'UpstreamUnavailableError']))
    for (const name of names) expect((core as Record<string, unknown>)[name], name).toBe((reexport as Record<string, unknown>)[name])
    // Every error class core exports is on the list.
    const errors = Object.keys(core).filter((name) => name.endsWith('Error'))
    expect(names).toEqual(expect.arrayContaining(errors))
  })

  for (const [adapter, module] of Object.entries(adapters)) {
    it(`@plangate/${adapter} re-exports all of it, the same objects`, () => {
      for (const name of names) expect(module[name], `${adapter}.${name}`).toBe((reexport as Record<string, unknown>)[name])
    })
  }
})

describe('@plangate/core speaks to each audience on its own path', () => {
  it('the root holds what users meet; what only adapters or stores use is on ./adapter and ./store', () => {
    const root = new Set(Object.keys(core))
    // The one name in two places: a store throws it, and a user catches it.
    const shared = new Set(['StoreUnavailableError'])
    for (const name of [...Object.keys(adapter), ...Object.keys(store)]) if (!shared.has(name)) expect(root.has(name), name).toBe(false)
    expect(Object.keys(adapter)).toEqual(expect.arrayContaining(['admit', 'resolveRequirePlan', 'credentialFrom', 'isServed', 'endLease', 'sharedGate']))
    expect(Object.keys(store)).toEqual(expect.arrayContaining(['reserveFrom', 'commitTo', 'releaseFrom', 'settleOn', 'observeOn', 'sweepLeases', 'isOutbox']))
    expect(store.StoreUnavailableError).toBe(core.StoreUnavailableError)
  })
})
