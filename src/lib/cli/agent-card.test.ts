import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../errors.js'
import {parseServiceFlag} from './agent-card.js'

describe('parseServiceFlag', () => {
  it.each([
    ['mcp=stdio:osmoda mcp@2025-11-25', {name: 'mcp', endpoint: 'stdio:osmoda mcp', version: '2025-11-25'}],
    ['web=https://user@host/x@1', {name: 'web', endpoint: 'https://user@host/x', version: '1'}],
    ['ens=ens:agent.eth=v@v1', {name: 'ens', endpoint: 'ens:agent.eth=v', version: 'v1'}],
  ])('splits %s at the first = and the last @', (text, want) => {
    expect(parseServiceFlag(text)).toEqual(want)
  })

  it.each(['web', 'web=https://x', '=https://x@1', 'web=@1', 'web=https://x@', '@x=y'])('rejects %s as a usage error', (text) => {
    let error: unknown
    try {
      parseServiceFlag(text)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(OsmodaError)
    expect((error as OsmodaError).code).toBe('USAGE')
    expect((error as OsmodaError).exitCode).toBe(2)
  })
})
