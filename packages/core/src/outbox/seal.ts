import type { Payer } from '../settle/burner'
import { base64ToBytes, bytesToBase64 } from '../util/base64'
import type { PaidResource } from '../x402/payment-required'

/**
 * What an outbox record says: who pays for the credits of one holder and plan, and for which
 * request. It holds the payer's credential (an API key or an x402 token), so it is sealed
 * (AES-GCM) with a key derived from the agent's own API key before it reaches the store: every
 * process of one agent can open it, and a copy of the store (a dump, a replica, a backup) shows
 * no credential. The store's keys never carry it either.
 */
export interface RecordedPayer {
  planId: string
  holderAddress: string
  payer: Payer
  resource: PaidResource
}

const VERSION = 'v1.'
const encoder = new TextEncoder()

/** Seals and opens records with one agent's key; the key is derived once, on first use. */
export class RecordSeal {
  readonly #agentKey: string
  #key: Promise<CryptoKey> | undefined

  constructor(agentKey: string) {
    this.#agentKey = agentKey
  }

  async seal(record: RecordedPayer): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await this.#cryptoKey(), encoder.encode(JSON.stringify(record)))
    return VERSION + bytesToBase64(iv) + '.' + bytesToBase64(new Uint8Array(sealed))
  }

  /** The record, or undefined when it is not one this agent sealed (another agent's, or damaged). */
  async open(text: string): Promise<RecordedPayer | undefined> {
    const parts = text.startsWith(VERSION) ? text.slice(VERSION.length).split('.') : []
    if (parts.length !== 2) return undefined
    try {
      const opened = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: base64ToBytes(parts[0]!) }, await this.#cryptoKey(), base64ToBytes(parts[1]!))
      const record = JSON.parse(new TextDecoder().decode(opened)) as RecordedPayer
      return isRecordedPayer(record) ? record : undefined
    } catch {
      return undefined
    }
  }

  #cryptoKey(): Promise<CryptoKey> {
    this.#key ??= crypto.subtle
      .digest('SHA-256', encoder.encode(`plangate outbox record key\0${this.#agentKey}`))
      .then((bytes) => crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, ['encrypt', 'decrypt']))
    return this.#key
  }
}

function isRecordedPayer(value: unknown): value is RecordedPayer {
  const r = value as Partial<RecordedPayer> | null
  if (typeof r !== 'object' || r === null || typeof r.planId !== 'string' || typeof r.holderAddress !== 'string') return false
  const payer = r.payer as Partial<{ kind: string; apiKey: string; token: string }> | undefined
  const payerOk = payer?.kind === 'key' ? typeof payer.apiKey === 'string' : payer?.kind === 'x402' && typeof payer.token === 'string'
  return payerOk && typeof r.resource?.url === 'string' && typeof r.resource.method === 'string'
}
