/**
 * Money at risk: the credits a guarded server has served and not yet had acknowledged upstream
 * (the store's `pending`), summed over every holder at random moments while the load runs. With
 * the memory store that is what a crash loses (revenue: the credits were counted as spent).
 *
 * The moments are a Poisson process (exponential gaps), so the mean of the samples is the time
 * average of the pending credits, whatever the rhythm of the batch windows.
 */
import type { MemoryBalanceStore } from '@plangate/core'

export interface PendingSample {
  /** Mean credits served and not yet acknowledged, over the samples. */
  mean: number
  max: number
  samples: number
}

export function pendingSampler(store: MemoryBalanceStore, meanGapMs = 50): { start(): void; stop(): PendingSample } {
  let timer: ReturnType<typeof setTimeout> | undefined
  let sum = 0
  let max = 0
  let samples = 0
  const sample = () => {
    let pending = 0
    for (const key of store.keys()) pending += store.snapshot(key).pending
    sum += pending
    max = Math.max(max, pending)
    samples++
    schedule()
  }
  const schedule = () => {
    timer = setTimeout(sample, -Math.log(1 - Math.random()) * meanGapMs)
  }
  return {
    start() {
      sum = max = samples = 0
      schedule()
    },
    stop() {
      clearTimeout(timer)
      return { mean: samples ? sum / samples : 0, max, samples }
    },
  }
}
