import type { IncomingMessage, ServerResponse } from 'node:http'
import { getRequestListener, RequestError } from '@hono/node-server'
import { PATH_REFUSED } from './admit'
import { problemResponse } from './problem'

/**
 * The proxy's fetch handler as a node:http request listener. @hono/node-server refuses a few
 * requests before any handler sees them (a backslash in the path, a malformed Host or absolute
 * URL) with an empty 400: the proxy answers those in its own problem+json instead.
 */
export function nodeListener(fetch: (request: Request, env: unknown) => Response | Promise<Response>, planId: string): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return getRequestListener(fetch, {
    errorHandler(error) {
      if (!(error instanceof RequestError)) return problemResponse('INTERNAL_ERROR', planId, 'The proxy failed unexpectedly; nothing was charged.')
      // The same refusal as the proxy's own path rule (see isPlainTarget), which a backslash never reaches.
      if (/backslash/i.test(error.message)) return problemResponse('PATH_AMBIGUOUS', planId, PATH_REFUSED)
      return problemResponse('REQUEST_MALFORMED', planId, 'The request target or its Host header cannot be read; nothing was charged.')
    },
  })
}
