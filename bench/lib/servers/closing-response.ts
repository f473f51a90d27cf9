/**
 * The Node response @hono/node-server hands a Hono app in its bindings (`c.env.outgoing`), as far
 * as plangate reads it, for calling the app in process: the caller says when the answer has been
 * written whole (`closed()`), and the 'close' listeners added while it was served run then, as
 * Node runs them once a response is sent.
 */
export interface ClosingResponse {
  readonly destroyed: boolean
  readonly headersSent: boolean
  readonly writableFinished: boolean
  setHeader(name: string, value: string): void
  once(event: 'close', listener: () => void): void
  /** The answer was written whole: 'close' now. */
  closed(): void
}

export function closingResponse(): ClosingResponse {
  let listeners: Array<() => void> = []
  return {
    destroyed: false,
    headersSent: false,
    writableFinished: true,
    setHeader() {},
    once: (_event, listener) => void listeners.push(listener),
    closed() {
      const run = listeners
      listeners = []
      for (const listener of run) listener()
    },
  }
}
