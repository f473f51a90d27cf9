/**
 * What a server allocates, through V8's sampling heap profiler (the inspector's
 * HeapProfiler.startSampling), counting objects the garbage collector has since freed: short-lived
 * garbage is most of what a request allocates. Started and stopped by the orchestrator's
 * `allocation-start` / `allocation-stop` commands, around a fixed number of requests.
 */
import { Session } from 'node:inspector/promises'

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children?: ProfileNode[]
}

/** Bytes allocated, in all, and by the JavaScript function that allocated them (`name file:line`). */
export interface AllocationSample {
  bytes: number
  byFunction: Record<string, number>
}

let session: Session | undefined

export async function startAllocationProfile(): Promise<void> {
  session ??= new Session()
  session.connect()
  // A sample every 64 bytes on average: fine enough for a few hundred bytes per request.
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 64,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as never)
}

export async function stopAllocationProfile(): Promise<AllocationSample> {
  if (!session) throw new Error('bench: allocation-stop before allocation-start')
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } }
  session.disconnect()
  const byFunction: Record<string, number> = {}
  let bytes = 0
  const visit = (node: ProfileNode) => {
    if (node.selfSize > 0) {
      const { functionName, url, lineNumber } = node.callFrame
      const where = `${functionName || '(anonymous)'} ${url}:${lineNumber + 1}`
      byFunction[where] = (byFunction[where] ?? 0) + node.selfSize
      bytes += node.selfSize
    }
    for (const child of node.children ?? []) visit(child)
  }
  visit(profile.head)
  return { bytes, byFunction }
}
