import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { answerHeaders, nodeRecorder, overriddenMethod, type Handler, type ProbeUpstream } from './seen'

/** Fastify 5 with its defaults: a not-found handler answering 200 for any method and path. */
export async function startFastifyUpstream(): Promise<ProbeUpstream> {
  const recorder = nodeRecorder()
  const app = Fastify()
  // Any body, of any type, on any method: kept as text for the record.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body))
  const answer = (handler: Handler, req: FastifyRequest, reply: FastifyReply) => {
    recorder.ran(req.raw, handler, typeof req.body === 'string' ? req.body : undefined)
    return reply.headers(answerHeaders(handler)).send({ handler })
  }
  app.get('/health', (req, reply) => answer('health', req, reply))
  app.get('/paid/:q', (req, reply) => answer('paid', req, reply))
  // Fastify routes before any hook runs: an upstream honouring method override does it in the handler.
  app.post('/items/:id', (req, reply) => {
    const method = overriddenMethod('POST', (name) => req.headers[name] as string | undefined)
    return answer(method === 'DELETE' ? 'items-delete' : 'items-post', req, reply)
  })
  app.delete('/items/:id', (req, reply) => answer('items-delete', req, reply))
  app.setNotFoundHandler((req, reply) => answer('catchall', req, reply))

  await app.listen({ port: 0, host: '127.0.0.1' })
  recorder.attach(app.server)
  return {
    name: 'Fastify 5',
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    seen: recorder.seen,
    close: () => app.close(),
  }
}
