import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve, type HttpBindings } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { methodOverride } from 'hono/method-override'
import { answerHeaders, nodeRecorder, type Handler, type ProbeUpstream } from './seen'

/** Hono on @hono/node-server, with its own methodOverride middleware for each header, and app.all('*'). */
export async function startHonoUpstream(): Promise<ProbeUpstream> {
  const recorder = nodeRecorder()
  const app = new Hono<{ Bindings: HttpBindings }>()
  for (const header of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']) app.use(methodOverride({ app, header }))
  const handle = (handler: Handler) => async (c: Context<{ Bindings: HttpBindings }>) => {
    recorder.ran(c.env.incoming as IncomingMessage, handler, await c.req.text())
    return c.json({ handler }, 200, answerHeaders(handler))
  }
  app.get('/health', handle('health'))
  app.get('/paid/:q', handle('paid'))
  app.post('/items/:id', handle('items-post'))
  app.delete('/items/:id', handle('items-delete'))
  app.all('*', handle('catchall'))

  const server = await new Promise<Server>((resolve) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(listening as Server)) as Server
  })
  recorder.attach(server)
  return {
    name: 'Hono on @hono/node-server',
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: recorder.seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
