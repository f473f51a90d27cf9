import http from 'node:http'
import { describe, expectTypeOf, it } from 'vitest'
import { createPlanGate, type FetchLike, type FetchResponse, type PlanGateOptions } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { createNodeFetch, NodeFetchResponse, type NodeFetchOptions } from '@plangate/node'

describe('@plangate/node types', () => {
  it('fits the gate\u2019s fetch option, as fetch and a fetch handler still do', () => {
    expectTypeOf(createNodeFetch()).toEqualTypeOf<FetchLike>()
    expectTypeOf(createNodeFetch()).toExtend<PlanGateOptions['fetch']>()
    expectTypeOf(globalThis.fetch).toExtend<FetchLike>()
    expectTypeOf(createLocalLedger().fetch).toExtend<FetchLike>()
    expectTypeOf<NodeFetchResponse>().toExtend<FetchResponse>()
    expectTypeOf<Response>().toExtend<FetchResponse>()
    createPlanGate({ apiKey: 'nvm:x.y.z', fetch: createNodeFetch({ httpAgent: new http.Agent({ keepAlive: true }), maxBodyBytes: 65_536 }) })
  })

  it('types the options', () => {
    expectTypeOf<NodeFetchOptions['maxBodyBytes']>().toEqualTypeOf<number>()
    // @ts-expect-error an unknown option
    createNodeFetch({ timeoutMs: 5 })
    // @ts-expect-error an agent is an http.Agent
    createNodeFetch({ httpAgent: {} })
  })
})
