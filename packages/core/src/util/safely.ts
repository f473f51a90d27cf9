/**
 * Calls a hook, ignoring anything it throws.
 *
 * @example
 * safely(() => hooks.onRedeem?.(event))
 */
export function safely(fn: () => void): void {
  try {
    fn()
  } catch {
    // Hooks observe; a throwing one must not change what happens to the request, its
    // settlement or the money.
  }
}
