/**
 * MCP authorization's discovery for a server whose callers pay with OAuth bearer tokens: a
 * request without one is answered 401 with `WWW-Authenticate: Bearer resource_metadata="…"`,
 * pointing at the server's Protected Resource Metadata (RFC 9728), which names the authorization
 * servers a client gets a token from. Web APIs only.
 *
 * Off unless given to a stateless helper (`oauth`): a 401 on `initialize` stops every client that
 * pays in `_meta["x402/payment"]`, since the SDK's client treats it as "authorize first".
 */

/** What `protectedResource()` takes. */
export interface ProtectedResourceOptions {
  /** The MCP endpoint's public URL, as clients reach it: `https://agent.example/mcp`. */
  resource: string | URL
  /** The issuers of the tokens this server accepts (RFC 8414 metadata at each). At least one. */
  authorizationServers: ReadonlyArray<string | URL>
  /** Scopes a client may ask for; also sent in the challenge as `scope`. */
  scopesSupported?: readonly string[]
  /** A name for people, shown by some clients. */
  resourceName?: string
  /** Where people read about the server. */
  resourceDocumentation?: string | URL
}

/** The RFC 9728 document served at `metadataPath`. */
export interface ProtectedResourceMetadata {
  resource: string
  authorization_servers: string[]
  bearer_methods_supported: ['header']
  scopes_supported?: string[]
  resource_name?: string
  resource_documentation?: string
}

/** A server's OAuth discovery: the 401 it answers, and the document the 401 points at. */
export interface ProtectedResource {
  /** The document to serve (JSON) at `metadataPath` on the same origin. */
  readonly metadata: ProtectedResourceMetadata
  /** `/.well-known/oauth-protected-resource` followed by the resource's path (RFC 9728 §3.1). */
  readonly metadataPath: string
  /** The absolute URL of that document. */
  readonly metadataUrl: string
  /** The 401's `WWW-Authenticate` value: `Bearer resource_metadata="<metadataUrl>"` (and the scopes). */
  readonly wwwAuthenticate: string
  /** True when the request carries something to pay with: a Bearer token or a `payment-signature`. */
  hasCredential(headers: Headers | Record<string, string | string[] | undefined>): boolean
  /** The 401 for a request without a token, as a Web `Response`. */
  unauthorized(): Response
  /** The metadata document as a Web `Response` (CORS open: browser clients read it). */
  metadataResponse(): Response
}

/**
 * MCP authorization's discovery pointers for `resource`. Throws a `TypeError` for a URL that is
 * not absolute http(s) or without an authorization server.
 *
 * @example
 * const oauth = protectedResource({ resource: 'https://agent.example/mcp', authorizationServers: ['https://auth.example'] })
 * app.get(oauth.metadataPath, () => oauth.metadataResponse())
 * app.all('/mcp', statelessFetchHandler(createServer, { oauth }))
 */
export function protectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const resource = httpUrl(options?.resource, 'resource')
  const servers = options.authorizationServers
  if (!Array.isArray(servers) || servers.length === 0) throw new TypeError('plangate: protectedResource({ authorizationServers }) needs at least one authorization server URL.')
  const scopes = options.scopesSupported
  if (scopes !== undefined && (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || s === '' || /[\s"\\]/.test(s)))) {
    throw new TypeError('plangate: protectedResource({ scopesSupported }) must be a list of scope names (no spaces or quotes).')
  }
  const metadata: ProtectedResourceMetadata = {
    resource: resource.href,
    authorization_servers: servers.map((server, i) => httpUrl(server, `authorizationServers[${i}]`).href),
    bearer_methods_supported: ['header'],
  }
  if (scopes?.length) metadata.scopes_supported = [...scopes]
  if (options.resourceName !== undefined) metadata.resource_name = String(options.resourceName)
  if (options.resourceDocumentation !== undefined) metadata.resource_documentation = httpUrl(options.resourceDocumentation, 'resourceDocumentation').href
  const path = resource.pathname === '/' ? '' : resource.pathname.replace(/\/$/, '')
  const metadataPath = `/.well-known/oauth-protected-resource${path}`
  const metadataUrl = new URL(metadataPath, resource.origin).href
  const wwwAuthenticate = `Bearer resource_metadata="${metadataUrl}"${scopes?.length ? `, scope="${scopes.join(' ')}"` : ''}`
  const body = JSON.stringify(metadata)
  return {
    metadata,
    metadataPath,
    metadataUrl,
    wwwAuthenticate,
    hasCredential: (headers) => hasCredential(headers),
    unauthorized: () =>
      new Response(JSON.stringify({ error: 'invalid_token', error_description: 'This MCP server needs an OAuth bearer token: see resource_metadata in WWW-Authenticate.' }), {
        status: 401,
        headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': wwwAuthenticate },
      }),
    metadataResponse: () => new Response(body, { status: 200, headers: { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' } }),
  }
}

function hasCredential(headers: Headers | Record<string, string | string[] | undefined>): boolean {
  const get = (name: string): string | undefined => {
    if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
    const value = (headers as Record<string, string | string[] | undefined>)[name]
    return Array.isArray(value) ? value[0] : value
  }
  const authorization = get('authorization')
  if (authorization !== undefined && /^bearer\s+\S/i.test(authorization.trim())) return true
  const signature = get('payment-signature')
  return signature !== undefined && signature.trim() !== ''
}

function httpUrl(value: unknown, name: string): URL {
  let url: URL | undefined
  try {
    url = value instanceof URL ? value : typeof value === 'string' ? new URL(value) : undefined
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new TypeError(`plangate: protectedResource({ ${name} }) must be an absolute http(s) URL.`)
  if (url.hash !== '') throw new TypeError(`plangate: protectedResource({ ${name} }) must not have a #fragment.`)
  return url
}
