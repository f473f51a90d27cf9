/** The child side of the IPC protocol: announce readiness, answer commands. */
import type { Command, Ready, Reply } from '../protocol'

export function config<T>(): T {
  const raw = process.argv[2]
  if (raw === undefined) throw new Error('bench: a child process needs its JSON config as the first argument')
  return JSON.parse(raw) as T
}

export function serveCommands(ready: Ready, answer: (command: Command) => Promise<Omit<Reply, 'id'>>): void {
  if (!process.send) throw new Error('bench: child processes run under the orchestrator (bench/run.ts), with IPC')
  process.on('message', (message: Command) => {
    void answer(message).then(
      (reply) => process.send?.({ ...reply, id: message.id } satisfies Reply),
      (error: unknown) => {
        console.error(error)
        process.exit(1)
      },
    )
  })
  process.on('disconnect', () => process.exit(0))
  process.send(ready)
}
