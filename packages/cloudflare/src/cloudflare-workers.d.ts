/**
 * The part of `cloudflare:workers` this package uses, for compiling it without the whole Workers
 * type library (which clashes with the DOM types the rest of the workspace compiles with). A
 * Worker project gets the real declarations from `wrangler types` or `@cloudflare/workers-types`;
 * the published types import `DurableObject` from `cloudflare:workers` and so use those.
 */
declare module 'cloudflare:workers' {
  interface DurableObjectStorage {
    get<T = unknown>(key: string): Promise<T | undefined>
    put<T>(key: string, value: T): Promise<void>
  }

  interface DurableObjectState {
    readonly storage: DurableObjectStorage
  }

  export abstract class DurableObject<Env = unknown> {
    protected ctx: DurableObjectState
    protected env: Env
    constructor(ctx: DurableObjectState, env: Env)
  }
}
