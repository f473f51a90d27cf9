/**
 * The Worker of test/runtimes/durable-object as two Worker services, `a` and `b`: two isolates
 * with a gate each (as Cloudflare runs a Worker in many) sharing one `PlanGateStore` namespace,
 * their gates on `ledger`, served to them over loopback by this process.
 */
import type { LocalLedger } from '@plangate/core/local'
import { serveFetch } from '../../helpers/serve'
import { binary, freePort, localLedgerEnv, start, stopAll, type Running } from '../process'
import { bundleDurableObjectWorker, DO_WORKER_DIR } from './bundle'

export interface Isolates {
  a: Running
  b: { url: string }
  /** Stops workerd and the ledger's server. */
  stop(): Promise<void>
}

/** Bundles the Worker, serves `ledger` and starts workerd with the agent's key `apiKey`. */
export async function startIsolates(ledger: LocalLedger, apiKey: string): Promise<Isolates> {
  const upstream = await serveFetch(ledger.fetch)
  await bundleDurableObjectWorker()
  const [portA, portB] = [await freePort(), await freePort()]
  const args = ['serve', `${DO_WORKER_DIR}config.capnp`, '--socket-addr', `a=127.0.0.1:${portA}`, '--socket-addr', `b=127.0.0.1:${portB}`]
  const env = localLedgerEnv({ NVM_API_KEY: apiKey, NVM_ENVIRONMENT: `${upstream.url}/api/v1` })
  const a = await start(binary('workerd/bin/workerd'), args, { port: portA, env })
  const stop = async () => {
    await stopAll()
    await upstream.close()
  }
  return { a, b: { url: `http://127.0.0.1:${portB}` }, stop }
}
