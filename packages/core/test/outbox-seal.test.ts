import { describe, expect, it } from 'vitest'
import { RecordSeal, type RecordedPayer } from '../src/outbox/seal'

const record: RecordedPayer = {
  planId: '7',
  holderAddress: '0x00000000000000000000000000000000000000aa',
  payer: { kind: 'x402', token: 'eyJzZWNyZXQiOiJ0b2tlbi12YWx1ZS0xMjM0NSJ9' },
  resource: { url: '/ask?q=1', method: 'GET' },
}

describe('outbox records (sealed: they hold the payer’s credential)', () => {
  it('open what the same agent sealed, and show nothing of the credential sealed', async () => {
    const seal = new RecordSeal('agent-key-1')
    const sealed = await seal.seal(record)
    expect(sealed).not.toContain(record.payer.kind === 'x402' ? record.payer.token : '')
    expect(sealed).not.toContain('token-value')
    expect(await new RecordSeal('agent-key-1').open(sealed)).toEqual(record)
    // A fresh IV each time: two seals of one record differ.
    expect(await seal.seal(record)).not.toBe(sealed)
  })

  it('another agent’s key, a tampered record or text that is no record open to undefined', async () => {
    const sealed = await new RecordSeal('agent-key-1').seal({ ...record, payer: { kind: 'key', apiKey: 'sk-holder' } })
    expect(await new RecordSeal('agent-key-2').open(sealed)).toBeUndefined()
    const body = sealed.slice(-8)
    const flipped = sealed.slice(0, -8) + (body[0] === 'A' ? 'B' : 'A') + body.slice(1)
    expect(await new RecordSeal('agent-key-1').open(flipped)).toBeUndefined()
    for (const text of ['', 'v1.', 'v1.a.b', 'v2.AAAA.AAAA', 'plain']) expect(await new RecordSeal('agent-key-1').open(text)).toBeUndefined()
    expect(await new RecordSeal('agent-key-1').open(sealed)).toEqual({ ...record, payer: { kind: 'key', apiKey: 'sk-holder' } })
  })
})
