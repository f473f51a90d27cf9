import { describe, expect, it } from 'vitest'
import { canonicalPath, isPlainTarget } from '../src/path'
import { compileRoutes } from '../src/routes'

describe('compileRoutes: what a request costs', () => {
  const costOf = compileRoutes(
    {
      '/v1/*': 2,
      'POST /v1/chat': 5,
      'GET /v1/files/:id': 3,
      'GET /v1/files/latest': 1,
      '* /v1/files/:id/raw': 4,
      'GET /health': 0,
      'OPTIONS /v1/paid-preflight': 9,
    },
    7,
  )

  it.each([
    ['POST', '/v1/chat', 5],
    ['GET', '/v1/chat', 2], // the method of "POST /v1/chat" does not match; "/v1/*" does
    ['GET', '/v1/files/abc', 3],
    ['GET', '/v1/files/latest', 1], // a literal beats a parameter, whatever the order of the keys
    ['DELETE', '/v1/files/abc/raw', 4],
    ['GET', '/v1/files/abc/raw', 4],
    ['GET', '/v1', 2], // "/v1/*" covers the path itself
    ['GET', '/v1/a/b/c', 2],
    ['GET', '/health', 0],
    ['HEAD', '/health', 0], // HEAD is charged as GET
    ['GET', '/', 7],
    ['GET', '/v2/anything', 7],
    ['GET', '/healthz', 7],
    ['OPTIONS', '/v1/chat', 5], // an OPTIONS that is not a preflight costs the path's dearest method (POST 5)
    ['OPTIONS', '/v1/files/abc/raw', 4],
    ['OPTIONS', '/health', 7], // GET is free, but any other method there costs the default
    ['OPTIONS', '/v1/paid-preflight', 9],
  ])('%s %s costs %i', (method, path, cost) => {
    expect(costOf(method, path)).toBe(cost)
  })

  it('a CORS preflight is free, unless a route names OPTIONS', () => {
    expect(costOf('OPTIONS', '/v1/chat', { preflight: true })).toBe(0)
    expect(costOf('OPTIONS', '/v1/paid-preflight', { preflight: true })).toBe(9)
  })

  it.each([
    ['/v1/ch%61t', 5], // sent as /v1/chat
    ['/v1/chat/', 5], // Express reads /v1/chat; Fastify and Hono, /v1/* (2)
    ['/V1/CHAT', 7], // Express reads /v1/chat; Fastify and Hono, nothing: the default (7)
    ['//v1//chat', 7], // Fastify's ignoreDuplicateSlashes reads /v1/chat; the others, nothing
  ])('a spelling of POST /v1/chat (%s) costs its dearest reading, %i', (path, cost) => {
    expect(costOf('POST', path)).toBe(cost)
  })

  it('a spelling that another upstream reads as a dearer route costs the dearer one', () => {
    const table = compileRoutes({ 'GET /free': 0, 'GET /:name': 50, 'GET /files': 0, 'GET /files/*': 20, 'DELETE /items/:id': 10 }, 1)
    expect(table('GET', '/free')).toBe(0)
    expect(table('GET', '/FREE')).toBe(50) // Fastify and Hono give it to /:name; Express to /free
    expect(table('GET', '/files/')).toBe(20) // Hono gives it to /files/*; Express to /files
    expect(table('DELETE', '/items/')).toBe(10) // Fastify gives it to /items/:id with an empty id
  })

  it('a path the proxy refuses costs the most any route costs', () => {
    expect(costOf('GET', '/health/..%2Fv1%2Fchat')).toBe(9)
  })

  it('a parameter matches one segment only', () => {
    expect(costOf('GET', '/v1/files/a/b')).toBe(2)
  })

  it('an empty table charges the default', () => {
    expect(compileRoutes({}, 1)('PUT', '/x')).toBe(1)
    expect(compileRoutes({}, 0)('PUT', '/x')).toBe(0)
  })

  it.each([
    [{ 'GET v1': 1 }, /the path of "GET v1" must start with "\/"/],
    [{ 'G3T /x': 1 }, /"G3T \/x" must be "METHOD \/path" or "\/path"/],
    [{ '/a/*/b': 1 }, /"\*" may only end the path/],
    [{ '/a*': 1 }, /"\*" must be a whole segment/],
    [{ '/a/:': 1 }, /":" is not a parameter name/],
    [{ '/x': 1.5 }, /the cost of "\/x" must be a non-negative integer/],
    [{ '/x': -1 }, /the cost of "\/x" must be a non-negative integer/],
    [{ 'GET /x': 1, 'get /X/': 2 }, /"get \/X\/" repeats another route/],
    [{ '/a/:id': 1, '/a/:name': 2 }, /"\/a\/:name" repeats another route/],
    [{ '/a/b%2Fc': 1 }, /"b%2Fc" is not a path segment the proxy forwards/],
    [{ '/a/b;c': 1 }, /"b;c" is not a path segment the proxy forwards/],
    [{ '/a/..': 1 }, /"\.\." is not a path segment/],
  ])('%j is refused, naming the key', (routes, message) => {
    expect(() => compileRoutes(routes as Record<string, number>, 1)).toThrow(TypeError)
    expect(() => compileRoutes(routes as Record<string, number>, 1)).toThrow(message)
  })
})

describe('the path rule', () => {
  it('decodes escapes of unreserved characters, and writes the others in upper case', () => {
    expect(canonicalPath('/a%3fb/c%20d/%7Euser/caf%c3%a9/%41%2d')).toBe('/a%3Fb/c%20d/~user/caf%C3%A9/A-')
  })

  it.each(['/a%2fb', '/a%2Fb', '/a%5cb', '/a%5Cb', '/a%2e%2e/b', '/report%2Epdf', '/a\\b', '/a;b/c', '/a/b;'])('refuses %s', (path) => {
    expect(canonicalPath(path)).toBeUndefined()
    expect(isPlainTarget(path)).toBe(false)
  })

  it('looks at the path of a raw target only, not its query', () => {
    expect(isPlainTarget('/a/b?next=%2Fc;d')).toBe(true)
    expect(isPlainTarget('/a/%2e%2e/b?x')).toBe(false)
  })
})
