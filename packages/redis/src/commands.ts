import { StoreUnavailableError } from '@plangate/core'
import { SCRIPTS, type ScriptName } from './script-set'

/**
 * The one thing the store needs of a Redis client: send a command, given as strings, and resolve
 * with its reply. Any client can do it:
 *
 * @example
 * // node-redis (`redis` v4, v5)
 * const sendCommand = (...args: string[]) => client.sendCommand(args)
 * // ioredis (v5)
 * const sendCommand = (command: string, ...args: string[]) => client.call(command, ...args)
 */
export type SendCommand = (...args: string[]) => Promise<unknown>

/**
 * Runs the store's scripts: EVALSHA with the SHA that SCRIPT LOAD gave (loaded once, on first
 * use), loaded again after a NOSCRIPT (a SCRIPT FLUSH, a restart, a failover). On a cluster the
 * load may land on another node than the key's: then EVAL runs the script, and caches it there.
 *
 * Every call is bounded by `timeoutMs`: a Redis that hangs, refuses or answers an error makes the
 * call reject with a `StoreUnavailableError`, whose message says nothing of Redis (it reaches a
 * response body); the client's own error is its `cause`.
 */
/** The share of the time budget within which a reservation must reach Redis. */
const DEADLINE = 0.8

export class Commands {
  readonly #send: SendCommand
  readonly #timeoutMs: number
  readonly #onError: ((error: Error) => void) | undefined
  readonly #shas = new Map<ScriptName, Promise<string>>()
  /** Redis's clock less ours (ms), to date a reservation in Redis's time; measured on first use. */
  #offset: Promise<number> | undefined

  constructor(send: SendCommand, timeoutMs: number, onError?: (error: Error) => void) {
    this.#send = send
    this.#timeoutMs = timeoutMs
    this.#onError = onError
  }

  get timeoutMs(): number {
    return this.#timeoutMs
  }

  /**
   * Runs `script` on `keys` within the time budget. With `deadline`, the script gets one more
   * argument: the Redis time (ms) after which it must do nothing, 80% of the budget from now (the
   * rest covers the way back and the clocks' uncertainty), so a command that reaches Redis after
   * we gave up on it (a Redis frozen, then resumed) takes nothing.
   */
  run<T>(script: ScriptName, keys: string[], args: string[], parse: (reply: unknown) => T, deadline = false): Promise<T> {
    const startedAt = Date.now()
    return this.bounded(async (abandoned) => {
      const all = deadline ? [...args, String(Math.floor(startedAt + (await this.#clockOffset()) + this.#timeoutMs * DEADLINE))] : args
      // Given up on while measuring the clock (a frozen Redis): send nothing.
      if (abandoned()) throw new Error('abandoned')
      return parse(await this.#eval(script, keys, all))
    })
  }

  /** `work`, or a `StoreUnavailableError` once it fails or `timeoutMs` passes. */
  async bounded<T>(work: (abandoned: () => boolean) => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    let over = false
    const timedOut = new Promise<never>((_, reject) => {
      // Timers run before the event loop reads sockets: on a busy process the answer may be
      // waiting unread when the budget ends. One more turn lets it be read first.
      const expire = () => {
        over = true
        reject(new Error(`Redis did not answer within ${this.#timeoutMs} ms`))
      }
      timer = setTimeout(() => (timer = setTimeout(expire, 0)), this.#timeoutMs)
    })
    try {
      return await Promise.race([work(() => over), timedOut])
    } catch (error) {
      // The next call measures the clock again: a failover may have brought another server.
      this.#offset = undefined
      const unavailable = new StoreUnavailableError(undefined, { cause: error })
      try {
        this.#onError?.(unavailable)
      } catch {
        // An observer that throws changes nothing.
      }
      throw unavailable
    } finally {
      clearTimeout(timer)
    }
  }

  async #eval(script: ScriptName, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args]
    try {
      return await this.#send('EVALSHA', await this.#sha(script), ...tail)
    } catch (error) {
      if (!isNoScript(error)) throw error
    }
    this.#shas.delete(script)
    try {
      return await this.#send('EVALSHA', await this.#sha(script), ...tail)
    } catch (error) {
      if (!isNoScript(error)) throw error
    }
    return this.#send('EVAL', SCRIPTS[script], ...tail)
  }

  #sha(script: ScriptName): Promise<string> {
    let sha = this.#shas.get(script)
    if (sha === undefined) {
      sha = this.#send('SCRIPT', 'LOAD', SCRIPTS[script]).then((reply) => {
        const text = asText(reply)
        if (!/^[0-9a-f]{40}$/.test(text)) throw new Error('SCRIPT LOAD answered something that is not a SHA-1')
        return text
      })
      // A failed load (Redis down) is tried again on the next call, not remembered.
      sha.catch(() => this.#shas.get(script) === sha && this.#shas.delete(script))
      this.#shas.set(script, sha)
    }
    return sha
  }

  #clockOffset(): Promise<number> {
    if (this.#offset === undefined) {
      const sentAt = Date.now()
      const offset = this.#send('TIME').then((reply) => {
        if (!Array.isArray(reply) || reply.length !== 2) throw new Error('TIME answered something unexpected')
        const serverMs = Number(asText(reply[0])) * 1000 + Math.floor(Number(asText(reply[1])) / 1000)
        if (!Number.isFinite(serverMs)) throw new Error('TIME answered something unexpected')
        const answeredAt = Date.now()
        // A slow answer says little about the clock: use it this once, measure again next time.
        if (answeredAt - sentAt > this.#timeoutMs / 4 && this.#offset === offset) this.#offset = undefined
        // The lowest offset the answer allows (Redis read its clock by answeredAt at the latest):
        // a deadline from it is never later than meant, only earlier by the round trip.
        return serverMs - answeredAt
      })
      offset.catch(() => this.#offset === offset && (this.#offset = undefined))
      this.#offset = offset
    }
    return this.#offset
  }
}

function isNoScript(error: unknown): boolean {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : ''
  return message.startsWith('NOSCRIPT')
}

/** A bulk string reply, whichever way the client decodes it. */
export function asText(reply: unknown): string {
  if (typeof reply === 'string') return reply
  if (typeof reply === 'number' || typeof reply === 'bigint') return String(reply)
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply)
  throw new Error('Redis answered something that is not text')
}
