import { fileURLToPath } from 'node:url'
import { bundleForWorkerd } from '../bundle-worker'

export const MCP_WORKER_DIR = fileURLToPath(new URL('./', import.meta.url))

/**
 * worker.ts bundled for workerd, no nodejs_compat. The MCP SDK's dependencies include CommonJS
 * packages (ajv), found through `main`; the SDK picks its Worker builds by condition.
 */
export function bundleMcpWorker(): Promise<string> {
  return bundleForWorkerd(new URL('./', import.meta.url), { mainFields: ['module', 'main'], conditions: ['workerd', 'worker', 'browser'] })
}
