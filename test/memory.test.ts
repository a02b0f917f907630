import {appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

let env: TestEnv
let agentd: DaemonProcess

beforeAll(async () => {
  env = await testEnv()
  mkdirSync(env.paths.configDir, {recursive: true})
  writeFileSync(env.paths.configFile('agentd'), JSON.stringify({memory: {scanSecs: 1}}))
  agentd = await env.start('agentd')
})

afterAll(async () => {
  await agentd?.stopClean()
  await env?.cleanup()
})

const NOTES = [
  {summary: 'nginx crashed after a config reload and was restarted', detail: 'systemctl restart nginx', category: 'incident', tags: ['nginx']},
  {summary: 'Disk full on /var because of journal growth', detail: 'journalctl --vacuum-size=500M', category: 'incident', tags: ['disk']},
  {summary: 'Operator prefers ed25519 SSH keys', category: 'preference', tags: ['ssh']},
  {summary: 'PostgreSQL bloat fixed by VACUUM FULL', detail: 'orders table', category: 'fix', tags: ['postgres', 'disk']},
]
const QUERIES = ['restarting', 'disk', '"disk full"', 'postgre*', 'ssh keys', 'vacuum journal nginx']

describe('memory through the typed client and the CLI', () => {
  it('stores as the agent: a markdown file, a memory.stored event without the text, and recall finds it', async () => {
    // Given an agent client
    const client = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    // When it stores memories
    const stored = []
    for (const note of NOTES) stored.push(await client.memoryStore(note))
    // Then each is a file under <state>/memory/<category>/<YYYY-MM>/ and a ledger event with ids only
    const first = stored[0]!
    expect(first.path).toBe(join(env.paths.stateDir, 'memory', 'incident', new Date().toISOString().slice(0, 7), `${first.id}.md`))
    expect(readFileSync(first.path, 'utf8')).toContain('nginx crashed after a config reload')
    const {events} = await client.eventsLog({type: 'memory.stored', limit: 10})
    expect(events).toHaveLength(NOTES.length)
    expect(events.at(-1)).toMatchObject({seq: first.seq, actor: 'agent:ops', payload: {memory_id: first.id, category: 'incident', tags: ['nginx']}})
    expect(JSON.stringify(events)).not.toContain('crashed')
    const recall = await client.memoryRecall({query: 'restarting nginx'})
    expect(recall.memories[0]).toMatchObject({id: first.id, agent_id: 'ops', source: 'agent:ops', category: 'incident', relevance: 1})
    client.close()
  })

  it('ingests events from other daemons (operator only), keeping secret-named metadata out of the file and the ledger', async () => {
    // Given a daemon calling as the operator
    const watch = env.client('agentd', agentdApi, 'operator', {'x-osmoda-operator': 'daemon:watch'})
    // When it ingests an event with a secret-looking metadata key
    const {id, seq} = await watch.memoryIngest({summary: 'switch rolled back after failed probe', category: 'switch', subcategory: 'rollback', source: 'watch', tags: ['safeswitch'], metadata: {api_key: 'sk-live-123', generation: 41}})
    // Then the ledger event names the memory and source only, and the file holds no secret
    const {events} = await watch.eventsLog({type: 'memory.ingested', limit: 1})
    expect(events[0]).toMatchObject({seq, actor: 'watch', payload: {memory_id: id, category: 'switch', source: 'watch'}})
    expect(Object.keys(events[0]!.payload).sort()).toEqual(['category', 'memory_id', 'source'])
    const file = readFileSync(join(env.paths.stateDir, 'memory', 'switch', new Date().toISOString().slice(0, 7), `${id}.md`), 'utf8')
    expect(file).not.toContain('sk-live-123')
    expect(file).toContain('"generation":41')
    const recall = await watch.memoryRecall({query: 'rolled back', category: 'switch'})
    expect(recall.memories[0]).toMatchObject({id, source: 'watch', subcategory: 'rollback', agent_id: null})
    watch.close()
  })

  it('answers `osmoda memory store|recall|health --json`', async () => {
    const stored = await env.cli(['memory', 'store', '--summary', 'zebra crossing lights fixed', '--category', 'fix', '--tag', 'street', '--json'])
    expect(stored).toMatchObject({exitCode: 0, json: {status: 0, result: {id: expect.stringMatching(/^mem_[0-9A-Z]{26}$/)}}})
    const recall = await env.cli(['memory', 'recall', 'zebra', '--category', 'fix', '--tag', 'street', '--max', '5', '--timeframe', '1h', '--json'])
    expect(recall.exitCode).toBe(0)
    expect(recall.json.result).toMatchObject({query: 'zebra', total_matches: 1, truncated: false, memories: [{id: stored.json.result.id, source: expect.stringMatching(/^operator:/)}]})
    const health = await env.cli(['memory', 'health', '--json'])
    expect(health.json.result).toMatchObject({status: 'ok', memory_count: NOTES.length + 2, index_ok: true, vector_search: 'not_available', dir: join(env.paths.stateDir, 'memory')})
    const bad = await env.cli(['memory', 'recall', '!!!', '--json'])
    expect(bad).toMatchObject({exitCode: 2, json: {error: {code: 'VALIDATION_FAILED', hint: expect.stringContaining('phrases')}}})
  })

  it('finds a hand-edited memory by its new words after `osmoda memory reindex`', async () => {
    // Given a stored memory whose file is edited by hand
    const client = env.client('agentd', agentdApi)
    const {id, path} = await client.memoryStore({summary: 'placeholder before the edit', category: 'general'})
    writeFileSync(path, readFileSync(path, 'utf8').replace('placeholder before the edit', 'quetzalcoatl migration notes'))
    // When the operator reindexes
    const reindex = await env.cli(['memory', 'reindex', '--wait', '--json'])
    expect(reindex).toMatchObject({exitCode: 0, json: {result: {state: 'ok'}}})
    // Then the new words find it and the old ones do not
    expect((await client.memoryRecall({query: 'quetzalcoatl'})).memories.map((m) => m.id)).toEqual([id])
    expect((await client.memoryRecall({query: 'placeholder'})).memories).toEqual([])
    const {events} = await client.eventsLog({type: 'memory.reindexed', limit: 1})
    expect(events[0]?.payload).toMatchObject({reason: 'requested', count: NOTES.length + 3})
    client.close()
  })

  it('the periodic scan follows edits and deletions without a reindex', async () => {
    const client = env.client('agentd', agentdApi)
    const a = await client.memoryStore({summary: 'scan target one', category: 'general'})
    const b = await client.memoryStore({summary: 'scan target two', category: 'general'})
    appendFileSync(a.path, '\n## Detail\n\nxylophone tuning\n')
    rmSync(b.path)
    let ids: string[] = []
    for (let i = 0; i < 50 && ids.join() !== a.id; i++) {
      await new Promise((r) => setTimeout(r, 100))
      ids = (await client.memoryRecall({query: 'xylophone OR two'})).memories.map((m) => m.id)
    }
    expect(ids).toEqual([a.id])
    client.close()
  })

  it('rebuilds a deleted index at start with identical recall results', async () => {
    // Given the answers of a few queries
    const client = env.client('agentd', agentdApi)
    const before = await Promise.all(QUERIES.map((query) => client.memoryRecall({query, max_results: 100})))
    client.close()
    // When agentd stops, its index is deleted and it starts again
    await agentd.stopClean()
    const index = join(env.paths.daemonStateDir('agentd'), 'memory-index.db')
    for (const suffix of ['', '-wal', '-shm']) rmSync(index + suffix, {force: true})
    agentd = await env.start('agentd')
    // Then the answers are identical and the rebuild is ledgered
    const again = env.client('agentd', agentdApi)
    expect(await Promise.all(QUERIES.map((query) => again.memoryRecall({query, max_results: 100})))).toEqual(before)
    const {events} = await again.eventsLog({type: 'memory.reindexed', limit: 1})
    expect(events[0]?.payload).toMatchObject({reason: 'missing'})
    // And the same after the index is corrupted
    await agentd.stopClean()
    writeFileSync(index, Buffer.alloc(16_384, 0x5a))
    for (const suffix of ['-wal', '-shm']) rmSync(index + suffix, {force: true})
    agentd = await env.start('agentd')
    const third = env.client('agentd', agentdApi)
    expect(await Promise.all(QUERIES.map((query) => third.memoryRecall({query, max_results: 100})))).toEqual(before)
    expect((await third.eventsLog({type: 'memory.reindexed', limit: 1})).events[0]?.payload).toMatchObject({reason: 'corrupt'})
    again.close()
    third.close()
  })
})
