/** A mistake in the flags, the config file or the environment: reported in one line, exit code 2, no stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
