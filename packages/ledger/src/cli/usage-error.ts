/** A mistake in the flags: reported in one line with how to fix it, exit code 2, no stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
