import { OUTBOX_SCRIPTS } from './outbox-scripts'
import { BALANCE_SCRIPTS } from './scripts'

/** Every script the store runs, by name: the balance steps (scripts.ts) and the outbox's (outbox-scripts.ts). */
export const SCRIPTS = { ...BALANCE_SCRIPTS, ...OUTBOX_SCRIPTS }
export type ScriptName = keyof typeof SCRIPTS
