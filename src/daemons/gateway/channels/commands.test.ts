import {describe, expect, it} from 'vitest'
import {startChannelHarness, telegramUpdate, WEBHOOK_SECRET} from '../../../../test/helpers/channel-harness.js'
import {parseCommand} from './commands.js'

const say = (url: string, id: number, from: number, text: string) =>
  fetch(`${url}/telegram/webhook`, {method: 'POST', headers: {'content-type': 'application/json', 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET}, body: JSON.stringify(telegramUpdate(id, from, text))})

describe('parseCommand', () => {
  it.each([
    {text: '/status', want: {name: 'status', args: ''}},
    {text: '  /stop  ', want: {name: 'stop', args: ''}},
    {text: '/status@osmoda_bot', want: {name: 'status', args: ''}},
    {text: '/skill morning-briefing focus on disks', want: {name: 'skill', args: 'morning-briefing focus on disks'}},
    {text: '/panic\nnow', want: {name: 'panic', args: 'now'}},
    {text: '/start', want: null},
    {text: 'please /stop', want: null},
    {text: '/Status', want: null},
    {text: '/statusx', want: null},
  ])('$text → $want', ({text, want}) => {
    expect(parseCommand(text)).toEqual(want)
  })
})

describe('slash commands on a channel', () => {
  it('/status, /new and /skill never reach the runtime as commands', async () => {
    const h = await startChannelHarness()
    try {
      await say(h.url, 1, 1001, '/status')
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 1)
      expect(h.providers.sent('sendMessage')[0]!.body.text).toBe('Agent mobile: idle\nRuntime claude-code, model claude-sonnet-4-6\nSession ses_test')
      await say(h.url, 2, 1001, '/new')
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 2)
      expect(h.fake.resets).toHaveLength(1)
      // /skill prepends the skill body to the user's words and sends that to the runtime
      await say(h.url, 3, 1001, '/skill morning-briefing focus on disks')
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 3)
      expect(h.fake.submitted.map((m) => m.text)).toEqual(['# Morning briefing\n\nSummarise the night.\n\nfocus on disks'])
      // Retired, unknown and malformed skills are answered without a run
      await say(h.url, 4, 1001, '/skill old-skill')
      await say(h.url, 5, 1001, '/skill nope')
      await say(h.url, 6, 1001, '/skill ../../etc')
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 6)
      const last = h.providers.sent('sendMessage').slice(3).map((c) => c.body.text as string)
      expect(last.map((t) => /failed: ([A-Z_]+)/.exec(t)?.[1]).sort()).toEqual(['CONFLICT', 'NOT_FOUND', 'VALIDATION_FAILED'])
      expect(h.fake.submitted).toHaveLength(1)
      expect(h.ledger.filter((e) => e.type === 'chat.command').map((e) => [e.payload.command, e.payload.outcome])).toEqual([
        ['new', 'ok'],
        ['skill', 'ok'],
        ['skill', 'error'],
        ['skill', 'error'],
        ['skill', 'error'],
      ])
    } finally {
      await h.close()
    }
  })

  it('/panic and /restart: refused for allowed users, run for operators', async () => {
    const h = await startChannelHarness()
    try {
      await say(h.url, 1, 1001, '/panic')
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 1)
      expect(h.providers.sent('sendMessage')[0]!.body.text).toBe('/panic is for operators only.')
      expect(h.safetyCalls).toEqual([])
      await say(h.url, 2, 1002, '/panic')
      await say(h.url, 3, 1002, '/restart')
      await h.providers.waitFor(() => h.providers.sent('sendMessage').length === 3)
      const texts = h.providers.sent('sendMessage').map((c) => c.body.text)
      expect(texts).toContain('Panic: stopping osmoda-routines.service, osmoda-gateway.service, then rolling back.')
      expect(texts).toContain('Restarting osmoda-gateway.service in 2 s.')
      expect(h.safetyCalls.sort()).toEqual(['panic', 'restart'])
      expect(h.fake.submitted).toEqual([])
    } finally {
      await h.close()
    }
  })
})
