/**
 * `unref` exists on Node and Bun timers; workerd and Deno have numeric ids, where there is
 * nothing to do. Only timers that may be abandoned are unref'd: a retry of a redemption must
 * keep the process alive long enough to land.
 */
export function unrefTimer<T>(timer: T): T {
  const maybe = timer as { unref?: () => void }
  if (typeof maybe === 'object' && maybe !== null && typeof maybe.unref === 'function') maybe.unref()
  return timer
}

export function sleep(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    if (options.unref) unrefTimer(timer)
  })
}
