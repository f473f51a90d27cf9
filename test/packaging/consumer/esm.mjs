// The published packages loaded with `import` (their ESM builds).
import { fileURLToPath } from 'node:url'
import * as core from '@plangate/core'
import * as adapter from '@plangate/core/adapter'
import * as store from '@plangate/core/store'
import * as local from '@plangate/core/local'
import * as express from '@plangate/express'
import * as hono from '@plangate/hono'
import * as koa from '@plangate/koa'
import * as fastify from '@plangate/fastify'
import * as node from '@plangate/node'
import express5 from 'express'
import express4 from 'express4'
import { Hono } from 'hono'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import Fastify from 'fastify'
import scenario from './scenario.cjs'

const names = ['@plangate/core', '@plangate/core/adapter', '@plangate/core/store', '@plangate/core/local', '@plangate/express', '@plangate/hono', '@plangate/koa', '@plangate/fastify', '@plangate/node']

await scenario({
  core,
  adapter,
  store,
  local,
  express,
  hono,
  koa,
  fastify,
  node,
  express5,
  express4,
  Hono,
  Koa3,
  Koa2,
  Fastify,
  resolved: names.map((name) => fileURLToPath(import.meta.resolve(name))),
})
