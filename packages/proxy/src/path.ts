/**
 * The path rule: the proxy prices exactly the path it sends, and sends only paths that every
 * upstream reads the same way. Express, Fastify and Hono keep `%2F` inside one segment, a Python
 * WSGI server decodes it into a slash, Hono resolves `%2e%2e` after decoding, Java servers cut
 * `;params` off segments: a path spelled with any of these could be priced as one route and run
 * as another. Such a path is refused (400) before anything is charged; what every upstream reads
 * alike, the proxy normalises and forwards normalised (RFC 3986 §6.2.2).
 */

/**
 * Encoded `/`, `\` and `.`, a backslash and `;`: spellings upstreams split, join or resolve in
 * different ways. (`.` is refused encoded only: plain dot segments are resolved, see below.)
 */
const AMBIGUOUS = /%2f|%5c|%2e|[\\;]/i

/** RFC 3986 unreserved characters other than `.` (refused encoded): the same decoded or not. */
const UNRESERVED = /^[A-Za-z0-9\-_~]$/

/**
 * Whether the request target, as the caller wrote it, may be forwarded. `raw` is the target
 * before URL parsing where the server gives it (the parser turns `\` into `/` and resolves
 * `%2e%2e`, which hides them from {@link canonicalPath}); only its path is looked at.
 *
 * @example isPlainTarget('/v1/files/a%2f..%2fb') // false
 */
export function isPlainTarget(raw: string): boolean {
  const query = raw.indexOf('?')
  return !AMBIGUOUS.test(query === -1 ? raw : raw.slice(0, query))
}

/**
 * The path the proxy prices and forwards, from the parsed URL's `pathname` (dot segments already
 * resolved, so a path can never climb above the upstream's base path): escapes of unreserved
 * characters decoded (`/he%61lth` is sent as `/health`, which Express would not match and Fastify
 * would), other escapes in upper case. Undefined when the path must be refused (see AMBIGUOUS).
 *
 * @example canonicalPath('/v1/ch%61t/caf%c3%a9') // '/v1/chat/caf%C3%A9'
 * @example canonicalPath('/paid/..%2fhealth') // undefined
 */
export function canonicalPath(pathname: string): string | undefined {
  if (AMBIGUOUS.test(pathname)) return undefined
  return pathname.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`
  })
}
