import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type Request, type Response } from 'express'
import { answerHeaders, nodeRecorder, overriddenMethod, readBody, type Handler, type ProbeUpstream } from './seen'

/** Express 5 as users write it: method-override honoured on POST, an app.use catch-all. */
export async function startExpressUpstream(): Promise<ProbeUpstream> {
  const recorder = nodeRecorder()
  const app = express()
  // What the method-override package does: POST runs as the method a header names.
  app.use((req, _res, next) => {
    req.method = overriddenMethod(req.method, (name) => req.get(name))
    next()
  })
  const handle = (handler: Handler) => async (req: Request, res: Response) => {
    recorder.ran(req, handler, await readBody(req))
    res.set(answerHeaders(handler)).json({ handler })
  }
  app.get('/health', handle('health'))
  app.get('/paid/:q', handle('paid'))
  app.post('/items/:id', handle('items-post'))
  app.delete('/items/:id', handle('items-delete'))
  app.use(handle('catchall'))

  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  recorder.attach(server)
  return {
    name: 'Express 5',
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: recorder.seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
