import { describe, expect, it } from 'vitest'
import { compileRoutes, normalizePath } from '../src/routes'

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
    ['OPTIONS', '/v1/chat', 0], // preflights are free unless a route names OPTIONS
    ['OPTIONS', '/v1/paid-preflight', 9],
  ])('%s %s costs %i', (method, path, cost) => {
    expect(costOf(method, path)).toBe(cost)
  })

  it.each([
    ['/V1/CHAT'],
    ['/v1/chat/'],
    ['//v1//chat'],
    ['/v1/ch%61t'],
    ['/v1/files/../chat'],
    ['/v1/x/..%2Fchat'],
    ['/v1%2Fchat'],
    ['/v1\\chat'],
    ['/./v1/./chat'],
  ])('a spelling of POST /v1/chat (%s) costs what it costs', (path) => {
    expect(costOf('POST', path)).toBe(5)
  })

  it('a parameter matches one segment only, and never an empty one', () => {
    expect(costOf('GET', '/v1/files/a/b')).toBe(2)
    expect(costOf('GET', '/v1/files/')).toBe(2)
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
  ])('%j is refused, naming the key', (routes, message) => {
    expect(() => compileRoutes(routes as Record<string, number>, 1)).toThrow(TypeError)
    expect(() => compileRoutes(routes as Record<string, number>, 1)).toThrow(message)
  })
})

describe('normalizePath', () => {
  it('keeps reserved escapes encoded and decodes the rest only where they are unreserved', () => {
    expect(normalizePath('/a%3Fb/c%20d/%7Euser')).toEqual(['a%3fb', 'c%20d', '~user'])
    expect(normalizePath('/../../etc')).toEqual(['etc'])
  })
})
