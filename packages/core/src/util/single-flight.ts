/**
 * One run of `run` per key at a time: whoever asks while it is in flight gets the same promise
 * and rides on its outcome (one balance read, one order, one verify, one plan lookup or one
 * delegation token for everyone waiting).
 * The key is free again once the run settles.
 *
 * @example
 * const reads = new Map<string, Promise<void>>()
 * await singleFlight(reads, key, () => readBalance(key))
 */
export function singleFlight<T>(flights: Map<string, Promise<T>>, key: string, run: () => Promise<T>): Promise<T> {
  const existing = flights.get(key)
  if (existing) return existing
  const flight = run().finally(() => {
    if (flights.get(key) === flight) flights.delete(key)
  })
  flights.set(key, flight)
  return flight
}
