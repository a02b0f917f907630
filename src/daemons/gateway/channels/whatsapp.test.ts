import {createHmac} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {ACCESS_TOKEN, APP_SECRET, startChannelHarness, VERIFY_TOKEN, whatsappPayload} from '../../../../test/helpers/channel-harness.js'

const sign = (body: string | Buffer, secret = APP_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${url}/whatsapp/webhook`, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body})

const signedPost = (url: string, payload: unknown) => {
  const body = JSON.stringify(payload)
  return post(url, body, {'x-hub-signature-256': sign(body)})
}

describe('WhatsApp webhook verification', () => {
  it.each([
    {name: 'the right verify token', query: `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`, wantStatus: 200, wantBody: '1158201444'},
    {name: 'a wrong verify token', query: 'hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1', wantStatus: 401, wantBody: 'UNAUTHENTICATED'},
    {name: 'no verify token', query: 'hub.mode=subscribe&hub.challenge=1', wantStatus: 401, wantBody: 'UNAUTHENTICATED'},
    {name: 'another mode', query: `hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`, wantStatus: 401, wantBody: 'UNAUTHENTICATED'},
    {name: 'no challenge', query: `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}`, wantStatus: 400, wantBody: 'VALIDATION_FAILED'},
  ])('answers $name with $wantStatus', async ({query, wantStatus, wantBody}) => {
    const h = await startChannelHarness()
    try {
      const res = await fetch(`${h.url}/whatsapp/webhook?${query}`)
      expect(res.status).toBe(wantStatus)
      const text = await res.text()
      if (wantStatus === 200) expect(text).toBe(wantBody)
      else expect(JSON.parse(text).error.code).toBe(wantBody)
    } finally {
      await h.close()
    }
  })
})

describe('WhatsApp messages', () => {
  it('answers an allowed number through the Graph API messages endpoint', async () => {
    const h = await startChannelHarness()
    try {
      // When a signed message from an allowed number arrives
      const res = await signedPost(h.url, whatsappPayload('wamid.A1', '15550001111', 'hi there'))
      // Then it is accepted and the reply is POSTed with the access token
      expect(res.status).toBe(200)
      await h.providers.waitFor(() => h.providers.sent('whatsapp').length === 1)
      const call = h.providers.sent('whatsapp')[0]!
      expect(call.authorization).toBe(`Bearer ${ACCESS_TOKEN}`)
      expect(call.body).toEqual({messaging_product: 'whatsapp', recipient_type: 'individual', to: '15550001111', type: 'text', text: {preview_url: false, body: 'echo: hi there'}})
      expect(h.fake.submitted).toEqual([{agentId: 'mobile', channel: 'whatsapp', user: {id: '15550001111'}, text: 'hi there'}])
    } finally {
      await h.close()
    }
  })

  it.each([
    {name: 'no signature', headers: () => ({}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
    {name: 'a signature with another secret', headers: (body: string) => ({'x-hub-signature-256': sign(body, 'other-secret')}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
    {name: 'a signature of another body', headers: (body: string) => ({'x-hub-signature-256': sign(`${body} `)}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
    {name: 'a malformed signature', headers: () => ({'x-hub-signature-256': 'sha256=zz'}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
    {name: 'a sha1 signature', headers: (body: string) => ({'x-hub-signature-256': `sha1=${createHmac('sha1', APP_SECRET).update(body).digest('hex')}`}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  ])('refuses $name with 401 and dispatches nothing', async ({headers, wantStatus, wantCode}) => {
    const h = await startChannelHarness()
    try {
      const body = JSON.stringify(whatsappPayload('wamid.F1', '15550001111', 'forged'))
      const res = await post(h.url, body, headers(body))
      expect(res.status).toBe(wantStatus)
      expect(((await res.json()) as any).error.code).toBe(wantCode)
      await h.channels.idle()
      expect(h.fake.submitted).toEqual([])
      expect(h.providers.sent('whatsapp')).toEqual([])
    } finally {
      await h.close()
    }
  })

  it('refuses an oversized body with 413 and malformed JSON with 400', async () => {
    const h = await startChannelHarness()
    try {
      const big = Buffer.alloc(1024 * 1024 + 1, 0x20)
      const tooBig = await post(h.url, big, {'x-hub-signature-256': sign(big)})
      expect(tooBig.status).toBe(413)
      expect(((await tooBig.json()) as any).error.code).toBe('PAYLOAD_TOO_LARGE')
      const garbled = '{"entry": ['
      const bad = await post(h.url, garbled, {'x-hub-signature-256': sign(garbled)})
      expect(bad.status).toBe(400)
      expect(((await bad.json()) as any).error.code).toBe('INVALID_JSON')
    } finally {
      await h.close()
    }
  })

  it('answers a retried message id once, ignores other numbers, statuses and non-text messages', async () => {
    const h = await startChannelHarness()
    try {
      await signedPost(h.url, whatsappPayload('wamid.D1', '15550001111', 'first'))
      await signedPost(h.url, whatsappPayload('wamid.D1', '15550001111', 'first'))
      await signedPost(h.url, whatsappPayload('wamid.D2', '15550001111', 'for another number', '999999'))
      const image = whatsappPayload('wamid.D3', '15550001111', '')
      ;(image.entry[0]!.changes[0]!.value.messages[0] as any).type = 'image'
      await signedPost(h.url, image)
      await signedPost(h.url, {object: 'whatsapp_business_account', entry: [{id: '1', changes: [{field: 'messages', value: {metadata: {phone_number_id: '106540352242922'}, statuses: [{id: 'wamid.S', status: 'delivered'}]}}]}]})
      await h.providers.waitFor(() => h.providers.sent('whatsapp').length === 1)
      await h.channels.idle()
      expect(h.fake.submitted.map((m) => m.text)).toEqual(['first'])
    } finally {
      await h.close()
    }
  })

  it('rejects numbers outside allowedNumbers and lets operators use /rollback', async () => {
    const h = await startChannelHarness()
    try {
      await signedPost(h.url, whatsappPayload('wamid.R1', '15559999999', 'hello?'))
      // An allowed, non-operator number may not roll back
      await signedPost(h.url, whatsappPayload('wamid.R2', '15550001111', '/rollback'))
      await h.providers.waitFor(() => h.providers.sent('whatsapp').length === 1)
      expect(h.providers.sent('whatsapp')[0]!.body.text.body).toBe('/rollback is for operators only.')
      // An operator number may
      await signedPost(h.url, whatsappPayload('wamid.R3', '15550002222', '/rollback disk full'))
      await h.providers.waitFor(() => h.providers.sent('whatsapp').length === 2)
      expect(h.providers.sent('whatsapp')[1]!.body.text.body).toBe('Rolling back from generation 42 to 41.')
      expect(h.safetyCalls).toEqual(['rollback'])
      expect(h.fake.submitted).toEqual([])
      expect(h.ledger.map((e) => [e.type, e.payload])).toEqual([
        ['channel.sender_rejected', {channel: 'whatsapp', sender_sha256: expect.stringMatching(/^[0-9a-f]{64}$/), rejected_count: 1}],
        ['chat.command', {command: 'rollback', channel: 'whatsapp', outcome: 'denied'}],
        ['chat.command', {command: 'rollback', channel: 'whatsapp', outcome: 'ok'}],
      ])
    } finally {
      await h.close()
    }
  })

  it('splits a long reply into messages of at most 4096 characters', async () => {
    const reply = Array.from({length: 120}, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n')
    const h = await startChannelHarness({reply: () => [{type: 'done', request_id: '', reply}]})
    try {
      await signedPost(h.url, whatsappPayload('wamid.L1', '15550001111', 'long'))
      await h.providers.waitFor(() => h.providers.sent('whatsapp').length === 3)
      await h.channels.idle()
      const parts = h.providers.sent('whatsapp').map((c) => c.body.text.body as string)
      expect(parts.every((p) => p.length <= 4096)).toBe(true)
      // Cut at line boundaries: joined back with newlines they are the whole reply
      expect(parts.join('\n')).toBe(reply)
    } finally {
      await h.close()
    }
  })

  it('answers 503 FEATURE_DISABLED when the channel is off', async () => {
    const h = await startChannelHarness({config: {whatsapp: {enable: false}}})
    try {
      const res = await signedPost(h.url, whatsappPayload('wamid.X', '15550001111', 'x'))
      expect(res.status).toBe(503)
      expect(((await res.json()) as any).error).toMatchObject({code: 'FEATURE_DISABLED', details: {option: 'channels.whatsapp.enable'}})
    } finally {
      await h.close()
    }
  })
})
