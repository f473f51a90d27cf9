import { fileURLToPath } from 'node:url'
import { bundleForWorkerd } from '../bundle-worker'

export const DO_WORKER_DIR = fileURLToPath(new URL('./', import.meta.url))

/** worker.ts bundled for workerd: `cloudflare:workers` stays an import (workerd provides it). */
export function bundleDurableObjectWorker(): Promise<string> {
  return bundleForWorkerd(new URL('./', import.meta.url), { external: ['cloudflare:workers'] })
}
