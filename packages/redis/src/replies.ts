/**
 * Replies, checked: the scripts answer integers only, and node-redis and ioredis both decode an
 * integer reply as a number. Anything else (a client in a mode that returns strings or buffers
 * is still accepted if the text is an integer) is a broken contract, never guessed at.
 */
export function one(reply: unknown): number {
  const n = toInteger(reply)
  if (n === undefined) throw new Error('Redis answered a script with something that is not an integer')
  return n
}

/** Exactly `length` integers. */
export function integers<T extends number[]>(reply: unknown, length: T['length']): T {
  if (!Array.isArray(reply) || reply.length !== length) throw new Error(`Redis answered a script with something that is not ${length} integers`)
  return reply.map(one) as T
}

function toInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined
  if (typeof value === 'bigint') return toInteger(Number(value))
  const text = typeof value === 'string' ? value : value instanceof Uint8Array ? new TextDecoder().decode(value) : undefined
  if (text === undefined || !/^-?\d{1,16}$/.test(text)) return undefined
  return toInteger(Number(text))
}
