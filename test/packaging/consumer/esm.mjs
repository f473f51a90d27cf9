// The published packages loaded with `import` (their ESM builds).
import { fileURLToPath } from 'node:url'
import * as core from '@plangate/core'
import * as local from '@plangate/core/local'
import * as express from '@plangate/express'
import * as hono from '@plangate/hono'
import * as node from '@plangate/node'
import express5 from 'express'
import express4 from 'express4'
import { Hono } from 'hono'
import scenario from './scenario.cjs'

const names = ['@plangate/core', '@plangate/core/local', '@plangate/express', '@plangate/hono', '@plangate/node']

await scenario({
  core,
  local,
  express,
  hono,
  node,
  express5,
  express4,
  Hono,
  resolved: names.map((name) => fileURLToPath(import.meta.resolve(name))),
})
