import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../../../lib/errors.js'
import {resolveChannelAgent, type AgentRouting} from './routing.js'

const agents = (enabled: {osmoda?: boolean; mobile?: boolean; spare?: boolean}): AgentRouting['agents'] => [
  {id: 'osmoda', enabled: enabled.osmoda ?? true, channels: ['web', 'api', 'voice']},
  {id: 'mobile', enabled: enabled.mobile ?? true, channels: ['telegram', 'whatsapp']},
  {id: 'spare', enabled: enabled.spare ?? true, channels: ['telegram', 'web']},
]
const bindings = [
  {channel: 'web', agent_id: 'osmoda'},
  {channel: 'telegram', agent_id: 'mobile'},
]

describe('resolveChannelAgent', () => {
  it.each([
    {name: 'the binding when its agent is enabled', enabled: {}, channel: 'telegram' as const, want: 'mobile'},
    {name: 'the first enabled agent listing the channel when the bound one is disabled', enabled: {mobile: false}, channel: 'telegram' as const, want: 'spare'},
    {name: 'an agent listing an unbound channel', enabled: {}, channel: 'whatsapp' as const, want: 'mobile'},
    {name: 'the bound agent even when it does not list the channel', enabled: {}, channel: 'web' as const, want: 'osmoda'},
  ])('picks $name', ({enabled, channel, want}) => {
    expect(resolveChannelAgent({agents: agents(enabled), bindings}, channel)).toBe(want)
  })

  it('answers 503 AGENT_DISCONNECTED no_agent_for_channel when nobody serves the channel', () => {
    let error: unknown
    try {
      resolveChannelAgent({agents: agents({mobile: false}), bindings}, 'whatsapp')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(OsmodaError)
    expect((error as OsmodaError).httpStatus).toBe(503)
    expect((error as OsmodaError).toEnvelope().error).toMatchObject({code: 'AGENT_DISCONNECTED', details: {reason: 'no_agent_for_channel', fallback_recommendation: 'configure_agent'}})
  })
})
