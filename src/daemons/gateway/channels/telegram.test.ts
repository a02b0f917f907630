import {describe, expect, it} from 'vitest'
import {BOT_TOKEN, startChannelHarness, telegramUpdate, WEBHOOK_SECRET} from '../../../../test/helpers/channel-harness.js'

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${url}/telegram/webhook`, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body})

const signed = (url: string, update: unknown) => post(url, JSON.stringify(update), {'x-telegram-bot-api-secret-token': WEBHOOK_SECRET})

describe('Telegram webhook', () => {
  it('answers an allowed user through the Bot API, with typing while the request runs', async () => {
    // Given channels in webhook mode with the fake Bot API
    const h = await startChannelHarness()
    try {
      // When an allowed user's update arrives with the right secret token
      const res = await signed(h.url, telegramUpdate(1, 1001, 'hello'))
      // Then it is accepted at once and the reply reaches sendMessage for that chat
      expect(res.status).toBe(200)
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 1)
      expect(h.providers.sent('sendMessage')[0]!.body).toMatchObject({chat_id: '1001', text: 'echo: hello'})
      expect(h.providers.sent('sendChatAction')[0]!.body).toEqual({chat_id: '1001', action: 'typing'})
      expect(h.fake.submitted).toEqual([{agentId: 'mobile', channel: 'telegram', user: {id: '1001', name: 'Ada'}, text: 'hello'}])
      // The bot token travels only in the Bot API path
      expect(h.providers.calls.every((c) => c.path.startsWith(`/bot${BOT_TOKEN}/`))).toBe(true)
    } finally {
      await h.close()
    }
  })

  it.each([
    {name: 'no secret header', headers: {} as Record<string, string>, body: JSON.stringify(telegramUpdate(5, 1001, 'x')), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
    {name: 'forged secret', headers: {'x-telegram-bot-api-secret-token': 'guess'}, body: JSON.stringify(telegramUpdate(5, 1001, 'x')), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
    {name: 'secret with a suffix', headers: {'x-telegram-bot-api-secret-token': `${WEBHOOK_SECRET}x`}, body: JSON.stringify(telegramUpdate(5, 1001, 'x')), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
    {name: 'oversized body', headers: {'x-telegram-bot-api-secret-token': WEBHOOK_SECRET}, body: Buffer.alloc(1024 * 1024 + 1, 0x20), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
    {name: 'not JSON', headers: {'x-telegram-bot-api-secret-token': WEBHOOK_SECRET}, body: '{"update_id": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
    {name: 'not an update', headers: {'x-telegram-bot-api-secret-token': WEBHOOK_SECRET}, body: '{"hello": 1}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
    {name: 'chat without an id', headers: {'x-telegram-bot-api-secret-token': WEBHOOK_SECRET}, body: '{"update_id": 9, "message": {"text": "x", "chat": {}}}', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  ])('refuses $name with $wantStatus $wantCode and dispatches nothing', async ({headers, body, wantStatus, wantCode}) => {
    const h = await startChannelHarness()
    try {
      const res = await post(h.url, body, headers)
      expect(res.status).toBe(wantStatus)
      expect(((await res.json()) as any).error.code).toBe(wantCode)
      // The update was not consumed: a correct delivery of the same id is still answered
      const ok = await signed(h.url, telegramUpdate(5, 1001, 'after'))
      expect(ok.status).toBe(200)
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 1)
      expect(h.fake.submitted.map((m) => m.text)).toEqual(['after'])
    } finally {
      await h.close()
    }
  })

  it('answers a repeated update_id once, also after a restart', async () => {
    // Given a handled update
    const h = await startChannelHarness()
    const dbPath = `${h.dir}/gateway.db`
    await signed(h.url, telegramUpdate(7, 1001, 'once'))
    await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 1)
    // When Telegram retries it
    expect((await signed(h.url, telegramUpdate(7, 1001, 'once'))).status).toBe(200)
    await h.channels.idle()
    // Then nothing more is dispatched
    expect(h.fake.submitted).toHaveLength(1)
    await h.close(true)
    // And a gateway restarted on the same database still knows it
    const again = await startChannelHarness({dir: h.dir, dbPath})
    try {
      expect((await signed(again.url, telegramUpdate(7, 1001, 'once'))).status).toBe(200)
      await signed(again.url, telegramUpdate(8, 1001, 'new'))
      await again.providers.waitFor(() => again.providers.sent('sendMessage').length === 1)
      expect(again.fake.submitted.map((m) => m.text)).toEqual(['new'])
    } finally {
      await again.close()
    }
  })

  it('rejects unknown senders silently and records a hashed id at most once a minute', async () => {
    const h = await startChannelHarness()
    try {
      // When two messages arrive from a user outside allowedUserIds
      expect((await signed(h.url, telegramUpdate(10, 666, 'let me in'))).status).toBe(200)
      expect((await signed(h.url, telegramUpdate(11, 667, 'me too'))).status).toBe(200)
      await h.channels.idle()
      // Then nothing is dispatched or sent, and one rejection is in the ledger without the raw id
      expect(h.fake.submitted).toEqual([])
      expect(h.providers.sent('sendMessage')).toEqual([])
      const rejected = h.ledger.filter((e) => e.type === 'channel.sender_rejected')
      expect(rejected).toHaveLength(1)
      expect(rejected[0]!.payload).toMatchObject({channel: 'telegram', sender_sha256: expect.stringMatching(/^[0-9a-f]{64}$/)})
      expect(JSON.stringify(rejected[0]!.payload)).not.toContain('666')
    } finally {
      await h.close()
    }
  })

  it('with an empty allowedUserIds nobody is answered', async () => {
    const h = await startChannelHarness({config: {telegram: {allowedUserIds: [], operatorUserIds: []}}})
    try {
      await signed(h.url, telegramUpdate(1, 1001, 'hello'))
      await h.channels.idle()
      expect(h.fake.submitted).toEqual([])
      expect(h.providers.sent('sendMessage')).toEqual([])
    } finally {
      await h.close()
    }
  })

  it('splits a long reply at paragraph boundaries into messages of at most 4096 characters', async () => {
    // Given a reply of three paragraphs, 5500 characters in all
    const paragraphs = ['a'.repeat(3000), 'b'.repeat(1000), 'c'.repeat(1500)]
    const reply = paragraphs.join('\n\n')
    const h = await startChannelHarness({reply: () => [{type: 'done', request_id: '', reply}]})
    try {
      await signed(h.url, telegramUpdate(1, 1001, 'long please'))
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 2)
      await h.channels.idle()
      // Then the fake Bot API received two parts, in order, cut between paragraphs
      const texts = h.providers.sent('sendMessage').map((c) => c.body.text as string)
      expect(texts[0] === `${paragraphs[0]}\n\n${paragraphs[1]}` && texts[1] === paragraphs[2]).toBe(true)
      expect(texts.every((t) => t.length <= 4096)).toBe(true)
    } finally {
      await h.close()
    }
  })

  it('sends each assistant message of a multi-message turn as it completes, and errors as a warning', async () => {
    const h = await startChannelHarness({
      reply: (m) =>
        m.text === 'fail'
          ? [{type: 'text', request_id: '', message_id: 'm1', delta: 'Looking…'}, {type: 'error', request_id: '', code: 'CHAT_WATCHDOG', message: 'no activity for 15 min'}]
          : [
              {type: 'text', request_id: '', message_id: 'm1', delta: 'Checking '},
              {type: 'text', request_id: '', message_id: 'm1', delta: 'the disks.'},
              {type: 'tool_use', request_id: '', tool: 'system_health', target: null},
              {type: 'tool_result', request_id: '', tool: 'system_health', ok: true},
              {type: 'text', request_id: '', message_id: 'm2', delta: 'All fine.'},
              {type: 'done', request_id: '', reply: 'Checking the disks.All fine.'},
            ],
    })
    try {
      await signed(h.url, telegramUpdate(1, 1001, 'disks?'))
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 2)
      await signed(h.url, telegramUpdate(2, 1001, 'fail'))
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 4)
      expect(h.providers.sent('sendMessage').map((c) => c.body.text)).toEqual(['Checking the disks.', 'All fine.', 'Looking…', '⚠️ CHAT_WATCHDOG: no activity for 15 min'])
    } finally {
      await h.close()
    }
  })

  it('keeps typing every interval while a request runs, and /stop ends it', async () => {
    const h = await startChannelHarness({reply: (m) => (m.text === 'slow' ? 'hang' : [])})
    try {
      await signed(h.url, telegramUpdate(1, 1001, 'slow'))
      await h.providers.waitFor(() => h.providers.sent('sendChatAction').length >= 3)
      // A second message while busy is not dispatched; the user learns about /stop
      await signed(h.url, telegramUpdate(2, 1001, 'again'))
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 1)
      expect(h.providers.sent('sendMessage')[0]!.body.text).toContain('/stop')
      // /stop stops the running request
      await signed(h.url, telegramUpdate(3, 1001, '/stop'))
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 3)
      await h.channels.idle()
      const texts = h.providers.sent('sendMessage').map((c) => c.body.text)
      expect(texts).toContain('Stopped.')
      expect(texts).toContain('⚠️ STOPPED: stopped by the user')
      expect(h.fake.stops).toEqual([{agentId: 'mobile', channel: 'telegram', user: {id: '1001', name: 'Ada'}}])
      // Typing stops with the turn (a request already in flight may still land)
      await new Promise((r) => setTimeout(r, 100))
      const typingAfter = h.providers.sent('sendChatAction').length
      await new Promise((r) => setTimeout(r, 200))
      expect(h.providers.sent('sendChatAction').length).toBe(typingAfter)
    } finally {
      await h.close()
    }
  })

  it('tells the user when no agent serves the channel', async () => {
    const h = await startChannelHarness()
    h.fake.setRouting({agents: [{id: 'osmoda', enabled: true, channels: ['web']}], bindings: []})
    try {
      await signed(h.url, telegramUpdate(1, 1001, 'anyone?'))
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 1)
      expect(h.providers.sent('sendMessage')[0]!.body.text).toMatch(/^⚠️ AGENT_DISCONNECTED: /)
      expect(h.fake.submitted).toEqual([])
    } finally {
      await h.close()
    }
  })

  it('answers 503 FEATURE_DISABLED on the webhook in polling mode', async () => {
    const h = await startChannelHarness({config: {telegram: {mode: 'polling'}}})
    try {
      const res = await signed(h.url, telegramUpdate(1, 1001, 'x'))
      expect(res.status).toBe(503)
      expect(((await res.json()) as any).error).toMatchObject({code: 'FEATURE_DISABLED', details: {option: 'channels.telegram.mode'}})
    } finally {
      await h.close()
    }
  })
})

describe('Telegram long polling', () => {
  it('answers updates from getUpdates and persists the offset', async () => {
    // Given channels in polling mode
    const h = await startChannelHarness({config: {telegram: {mode: 'polling'}}})
    const abort = new AbortController()
    const loop = h.channels.start(abort.signal)
    try {
      // When two updates (one a photo without text) are queued at the Bot API
      h.providers.pushUpdate(telegramUpdate(500, 1001, 'polled'))
      h.providers.pushUpdate({update_id: 501, message: {message_id: 2, from: {id: 1001}, chat: {id: 1001}, photo: []}})
      // Then the text one is answered and the offset moves past both
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 1)
      expect(h.providers.sent('sendMessage')[0]!.body.text).toBe('echo: polled')
      await h.providers.waitFor(() => h.store.offset('telegram') === 502)
      // And the next getUpdates asks from that offset
      await h.providers.waitFor(() => h.providers.sent('getUpdates').some((c) => c.body.offset === 502))
      expect(h.fake.submitted).toHaveLength(1)
    } finally {
      abort.abort()
      await loop
      await h.close()
    }
  })
})
