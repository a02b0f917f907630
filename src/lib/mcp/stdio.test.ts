import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'
import type {AgentdApi} from '../../daemons/agentd/api.js'
import type {RpcClient} from '../rpc/client.js'
import type {ToolCallRecord} from './recorder.js'
import {serveStdio} from './stdio.js'
import {fakeKeyd, fakeWatch} from '../../../test/helpers/mcp-fakes.js'

type Agentd = RpcClient<AgentdApi>

const PAGE = {events: [], next_cursor: null}

/** A seam fake of agentd whose eventsLog answers only when the test releases it. */
function slowAgentd() {
  const posted: ToolCallRecord[] = []
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  let started: () => void = () => {}
  const callStarted = new Promise<void>((resolve) => (started = resolve))
  const agentd = {
    eventsLog: async () => {
      started()
      await released
      return PAGE
    },
    toolCalls: async (record: ToolCallRecord) => {
      posted.push(record)
      return {seq: posted.length}
    },
    close: () => {},
  } as unknown as Agentd
  return {agentd, posted, release, callStarted}
}

const line = (message: object) => `${JSON.stringify({jsonrpc: '2.0', ...message})}\n`

describe('serveStdio', () => {
  it('lets a call that is running when stdin closes finish and reach the ledger', async () => {
    // Given the server on in-memory stdio with a call in flight
    const fake = slowAgentd()
    const stdin = new PassThrough()
    const stdout = new PassThrough()
    let output = ''
    stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    const serving = serveStdio({clients: {agentd: fake.agentd, watch: fakeWatch(), keyd: fakeKeyd()}, role: 'agent', stdin, stdout, log: () => {}})
    stdin.write(line({id: 1, method: 'initialize', params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 't', version: '0'}}}))
    stdin.write(line({method: 'notifications/initialized'}))
    stdin.write(line({id: 2, method: 'tools/call', params: {name: 'event_log', arguments: {limit: 1}}}))
    await fake.callStarted
    // When stdin ends before the daemon answers
    stdin.end()
    await new Promise((resolve) => setTimeout(resolve, 20))
    fake.release()
    await serving
    // Then the server waited: the call was answered and recorded before serveStdio resolved
    expect(fake.posted.map((r) => [r.tool, r.outcome])).toEqual([['event_log', 'ok']])
    const answers = output.trim().split('\n').map((l) => JSON.parse(l) as {id: number; result?: {structuredContent?: unknown}})
    expect(answers.find((a) => a.id === 2)?.result?.structuredContent).toEqual(PAGE)
  })
})
