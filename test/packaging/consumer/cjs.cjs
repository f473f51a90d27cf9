// The published packages loaded with `require` (their CommonJS builds).
/* eslint-disable @typescript-eslint/no-require-imports */
/* global require, console, process */
const scenario = require('./scenario.cjs')

const names = ['@plangate/core', '@plangate/core/adapter', '@plangate/core/store', '@plangate/core/local', '@plangate/express', '@plangate/hono', '@plangate/koa', '@plangate/fastify', '@plangate/node']

scenario({
  core: require('@plangate/core'),
  adapter: require('@plangate/core/adapter'),
  store: require('@plangate/core/store'),
  local: require('@plangate/core/local'),
  express: require('@plangate/express'),
  hono: require('@plangate/hono'),
  koa: require('@plangate/koa'),
  fastify: require('@plangate/fastify'),
  node: require('@plangate/node'),
  express5: require('express'),
  express4: require('express4'),
  Hono: require('hono').Hono,
  Koa3: require('koa'),
  Koa2: require('koa2'),
  Fastify: require('fastify'),
  resolved: names.map((name) => require.resolve(name)),
}).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
