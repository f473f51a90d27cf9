// What a user does with the published packages, written once for both module systems: esm.mjs
// and cjs.cjs load the packages with `import` and `require` and hand them over. Prints JSON.
/* eslint-disable @typescript-eslint/no-require-imports */
/* global module, console, fetch, require, Request, Buffer, URL */
const http = require('node:http')

const ERROR_CLASSES = ['PlanGateError', 'CredentialMissingError', 'CredentialInvalidError', 'PaymentRequiredError', 'PlanNotFoundError', 'UpstreamUnavailableError', 'CostInvalidError', 'GateMisconfiguredError']
const EXPECTED = {
  core: ['createPlanGate', 'NeverminedClient', 'MemoryBalanceStore', 'parseX402Token', 'isPlanGateError', ...ERROR_CLASSES],
  adapter: ['admit', 'resolveRequirePlan', 'credentialFrom', 'endLease', 'isServed', 'sharedGate', 'parseApiKey', 'normalizePlanId'],
  store: ['newEntry', 'reserveFrom', 'commitTo', 'releaseFrom', 'settleOn', 'observeOn', 'sweepLeases', 'isOutbox', 'StoreUnavailableError'],
  local: ['createLocalLedger'],
  express: ['requirePlan', 'createPlanGate', 'isPlanGateError', ...ERROR_CLASSES],
  hono: ['requirePlan', 'createPlanGate', 'isPlanGateError', ...ERROR_CLASSES],
  koa: ['requirePlan', 'createPlanGate', 'isPlanGateError', ...ERROR_CLASSES],
  fastify: ['plangate', 'createPlanGate', 'isPlanGateError', ...ERROR_CLASSES],
  node: ['createNodeFetch'],
}

/** A ledger with an agent's plan (2 credits for 10) and a subscriber who can afford one order. */
function world(core, local) {
  const ledger = local.createLocalLedger()
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 10 })
  const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
  const gate = core.createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
  return { ledger, owner, alice, planId, gate, auth: { headers: { Authorization: `Bearer ${alice.apiKey}` } } }
}

/** One paid request, one without a key, and what the ledger saw. */
async function exchange(w, request) {
  const paid = await request(w.auth)
  const anonymous = await request({})
  const body = await paid.json()
  await w.gate.close()
  return {
    paid: paid.status,
    remaining: paid.headers.get('x-credits-remaining'),
    balance: body.remaining,
    anonymous: anonymous.status,
    problem: anonymous.headers.get('content-type'),
    orders: w.ledger.orders(w.planId),
    redeemed: w.ledger.redeemed(w.planId),
  }
}

/** A Node server on loopback, for the duration of one exchange. */
async function overHttp(server, w) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    return await exchange(w, (init) => fetch(`http://127.0.0.1:${server.address().port}/paid`, init))
  } finally {
    server.close()
  }
}

async function viaExpress(mods, express, w = world(mods.core, mods.local)) {
  const app = express()
  app.get('/paid', mods.express.requirePlan(w.planId, { gate: w.gate }), (req, res) => res.json(req.balance))
  return overHttp(http.createServer(app), w)
}

/** The ledger served over HTTP on loopback (a plain node:http bridge to its fetch handler). */
async function served(ledger) {
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined
    const answer = await ledger.fetch(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: req.headers, body }))
    res.writeHead(answer.status, Object.fromEntries(answer.headers))
    res.end(Buffer.from(await answer.arrayBuffer()))
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { server, baseUrl: `http://127.0.0.1:${server.address().port}${new URL(ledger.baseUrl).pathname}` }
}

/** Express 5 with a gate that reaches the ledger over HTTP through @plangate/node's createNodeFetch. */
async function viaNodeFetch(mods) {
  const w = world(mods.core, mods.local)
  const upstream = await served(w.ledger)
  w.gate = mods.core.createPlanGate({ apiKey: w.owner.apiKey, environment: upstream.baseUrl, fetch: mods.node.createNodeFetch() })
  try {
    return await viaExpress(mods, mods.express5, w)
  } finally {
    upstream.server.close()
  }
}

async function viaHono(mods) {
  const w = world(mods.core, mods.local)
  const app = new mods.Hono()
  app.get('/paid', mods.hono.requirePlan(w.planId, { gate: w.gate }), (c) => c.json(c.get('balance')))
  return exchange(w, (init) => app.request('/paid', init))
}

async function viaKoa(mods, Koa) {
  const w = world(mods.core, mods.local)
  const app = new Koa()
  app.use(mods.koa.requirePlan(w.planId, { gate: w.gate }))
  app.use((ctx) => (ctx.body = ctx.state.balance))
  return overHttp(http.createServer(app.callback()), w)
}

async function viaFastify(mods) {
  const w = world(mods.core, mods.local)
  const app = mods.Fastify()
  await app.register(mods.fastify.plangate, { planId: w.planId, gate: w.gate })
  app.get('/paid', async (request) => request.balance)
  await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    return await exchange(w, (init) => fetch(`http://127.0.0.1:${app.server.address().port}/paid`, init))
  } finally {
    await app.close()
  }
}

module.exports = async function scenario(mods) {
  const missing = []
  for (const [name, expected] of Object.entries(EXPECTED)) {
    for (const exported of expected) if (typeof mods[name][exported] !== 'function') missing.push(`${name}.${exported}`)
  }
  const result = {
    missing,
    resolved: mods.resolved,
    express5: await viaExpress(mods, mods.express5),
    express4: await viaExpress(mods, mods.express4),
    hono: await viaHono(mods),
    koa3: await viaKoa(mods, mods.Koa3),
    koa2: await viaKoa(mods, mods.Koa2),
    fastify: await viaFastify(mods),
    nodeFetch: await viaNodeFetch(mods),
  }
  console.log(JSON.stringify(result))
}
