import { encodeBase64Url } from './base64url'
import { randomAddress, randomBase64Url, randomHex } from './random'
import type { LocalAccount } from './types'
import { toAddress, toMoney } from './validate'

// What real Nevermined keys carry in their JWT header; the ledger mints keys of the same shape so
// that everything that parses keys (parseApiKey, the gate's cache keys) is exercised for real.
const JWT_HEADER = encodeBase64Url(JSON.stringify({ alg: 'ES256K', typ: 'JWT' }))
const ISSUER = 'plangate-local-ledger'
// An ES256K signature is r‖s, 64 bytes. It is never checked: only issued keys are accepted.
const SIGNATURE_BYTES = 64

/**
 * The ledger's accounts: the API keys it issued (each naming one address) and the wallets.
 * A wallet exists for any address, with 0 funds until funded, so a plan's owner or a holder
 * need not have a key to be paid or looked up.
 */
export class Accounts {
  readonly #addressByKey = new Map<string, string>()
  readonly #wallets = new Map<string, number>()
  readonly #now: () => number

  constructor(now: () => number) {
    this.#now = now
  }

  /** Issues a key for `address` (random when absent) and adds `funds` to its wallet. */
  create(options: { funds?: number; address?: string } = {}): LocalAccount {
    const funds = toMoney(options.funds ?? 0, 'createAccount funds')
    const address = options.address === undefined ? randomAddress() : toAddress(options.address, 'createAccount address')
    const apiKey = `nvm:${this.#mintJwt(address)}`
    this.#addressByKey.set(apiKey, address)
    this.fund(address, funds)
    return { apiKey, address }
  }

  /** The address a key issued by this ledger belongs to, or undefined for any other string. */
  addressOf(apiKey: string | undefined): string | undefined {
    return apiKey === undefined ? undefined : this.#addressByKey.get(apiKey)
  }

  fund(address: string, amount: number): void {
    const canonical = toAddress(address, 'fund address')
    this.#wallets.set(canonical, this.wallet(canonical) + toMoney(amount, 'fund amount'))
  }

  wallet(address: string): number {
    return this.#wallets.get(toAddress(address, 'wallet address')) ?? 0
  }

  /** Moves `amount` from one wallet to another; false (and nothing moves) when `from` is short. */
  pay(from: string, to: string, amount: number): boolean {
    const funds = this.wallet(from)
    if (funds < amount) return false
    this.#wallets.set(from, funds - amount)
    this.#wallets.set(to, this.wallet(to) + amount)
    return true
  }

  #mintJwt(address: string): string {
    const payload = {
      sub: address,
      iss: ISSUER,
      iat: Math.floor(this.#now() / 1000),
      // Makes every key unique, even two keys minted for one address in the same second.
      jti: randomHex(16),
    }
    return `${JWT_HEADER}.${encodeBase64Url(JSON.stringify(payload))}.${randomBase64Url(SIGNATURE_BYTES)}`
  }
}
