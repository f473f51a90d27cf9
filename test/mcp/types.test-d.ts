/**
 * The types of `requirePlan` on `McpServer.registerTool`: the handler's `extra` carries the
 * balance, its arguments are inferred from `inputSchema`, and the wrapped handler is what
 * `registerTool` takes for either shape. Here beside the other MCP tests because zod resolves
 * from the test workspace.
 */
import { McpServer, type ToolCallback } from '@modelcontextprotocol/sdk/server/mcp.js'
import { createPlanGate, type PlanBalance } from '@plangate/core'
import { paidTool, requirePlan, type PaidExtra, type ServerExtra } from '@plangate/mcp'
import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'

const gate = createPlanGate({ apiKey: 'nvm:x.y.z' })
const server = new McpServer({ name: 'types', version: '1.0.0' })

describe('@plangate/mcp requirePlan types', () => {
  it('types extra.balance, and args from inputSchema, in a handler with an input schema', () => {
    server.registerTool('forecast', { inputSchema: { city: z.string(), days: z.number().optional() } }, requirePlan(7, { gate, cost: 2 }, async ({ city, days }, extra) => {
      expectTypeOf(city).toEqualTypeOf<string>()
      expectTypeOf(days).toEqualTypeOf<number | undefined>()
      expectTypeOf(extra.balance).toEqualTypeOf<PlanBalance>()
      expectTypeOf(extra.balance.remaining).toEqualTypeOf<number>()
      expectTypeOf(extra.signal).toEqualTypeOf<AbortSignal>()
      expectTypeOf(extra).toExtend<ServerExtra>()
      return { content: [{ type: 'text', text: city }] }
    }))
  })

  it('types extra.balance in a handler without an input schema, called (extra)', () => {
    server.registerTool('ping', {}, requirePlan(7, { gate, cost: 1 }, async (extra) => {
      expectTypeOf(extra).toEqualTypeOf<PaidExtra>()
      extra.balance.use(1)
      return { content: [] }
    }))
    // A handler that ignores its arguments fits a tool with an input schema too.
    server.registerTool('search', { inputSchema: { q: z.string() } }, requirePlan(7, { gate, cost: { max: 5, usage: () => 1 } }, async () => ({ content: [] })))
  })

  it('returns the SDK callback for the schema it was given', () => {
    expectTypeOf(requirePlan(7, { gate }, async () => ({ content: [] }))).toEqualTypeOf<ToolCallback<undefined>>()
    expectTypeOf(requirePlan<{ city: z.ZodString }>(7, { gate }, async ({ city }) => ({ content: [{ type: 'text', text: city }] }))).toEqualTypeOf<ToolCallback<{ city: z.ZodString }>>()
  })

  it('refuses what the SDK would refuse', () => {
    // @ts-expect-error a tool result has content, not messages
    server.registerTool('bad', {}, requirePlan(7, { gate }, async () => ({ messages: [] })))
    server.registerTool('typo', { inputSchema: { city: z.string() } }, requirePlan(7, { gate }, async (args) => {
      // @ts-expect-error no such argument in the schema
      void args.town
      return { content: [] }
    }))
    // @ts-expect-error an unknown option
    requirePlan(7, { gate, costs: 2 }, async () => ({ content: [] }))
  })

  it('paidTool: plan and cost once, the handler typed as requirePlan types it', () => {
    paidTool(server, 'weather', { inputSchema: { city: z.string() } }, 7, { gate, cost: 2 }, async ({ city }, extra) => {
      expectTypeOf(city).toEqualTypeOf<string>()
      expectTypeOf(extra.balance).toEqualTypeOf<PlanBalance>()
      return { content: [{ type: 'text', text: city }] }
    })
    paidTool(server, 'pong', {}, 7, { gate, cost: 1 }, async (extra) => {
      expectTypeOf(extra.balance).toEqualTypeOf<PlanBalance>()
      return { content: [] }
    })
  })
})
