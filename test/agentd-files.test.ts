import {mkdirSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {badInputTable, ledgerSize, socketSender, type BadInputCase} from './helpers/bad-input.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'

let env: TestEnv
let agentd: DaemonProcess
let root: string
let operator: string
let agent: string

const at = (rel: string) => join(root, rel)

beforeAll(async () => {
  env = await testEnv()
  // The roots are temp dirs; the deny list keeps its defaults (tokens, ledger, identity, …).
  root = join(realpathSync(env.base), 'files')
  for (const dir of ['srv/app', 'work', 'outside']) mkdirSync(join(root, dir), {recursive: true})
  writeFileSync(at('srv/app/app.conf'), 'listen 8080\nworkers 4\n')
  writeFileSync(at('srv/app/logo.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x0a]))
  writeFileSync(at('srv/big.log'), 'x'.repeat(5000))
  writeFileSync(at('outside/secret'), 'nope\n')
  symlinkSync(at('outside/secret'), at('srv/app/escape'))
  mkdirSync(env.paths.configDir, {recursive: true})
  writeFileSync(
    env.paths.configFile('agentd'),
    JSON.stringify({files: {readRoots: [at('srv'), at('work'), '<state>'], writeRoots: [{path: at('work'), approval: false}, {path: '<state>', approval: false}], maxReadBytes: 4096, maxWriteBytes: 1024}}),
  )
  agentd = await env.start('agentd')
  operator = env.token('operator')
  agent = env.token('agent')
})

afterAll(async () => {
  await agentd?.stopClean()
  await env?.cleanup()
})

describe('file tools through the typed client with the agent token', () => {
  it('reads, writes and lists inside the roots, and ledgers the write under the agent', async () => {
    // Given the agent's client
    const client = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
    // When it reads a file, writes a new one and lists the directory
    const read = await client.fileRead({path: at('srv/app/app.conf'), max_lines: 1})
    const wrote = await client.fileWrite({path: at('work/notes/today.md'), content: '# notes\n', create_dirs: true})
    const listed = await client.fileList({path: at('work'), recursive: true})
    // Then the read is a window of the file
    expect(read).toMatchObject({content: 'listen 8080\n', total_lines: 2, lines_returned: 1, truncated: true, resolved_path: at('srv/app/app.conf')})
    // And the write landed atomically with mode 0644 and is in the ledger as file.written by agent:ops
    const sha256 = createHash('sha256').update('# notes\n').digest('hex')
    expect(wrote).toEqual({path: at('work/notes/today.md'), bytes: 8, sha256, created: true, mode: '0644'})
    expect(readFileSync(at('work/notes/today.md'), 'utf8')).toBe('# notes\n')
    expect(statSync(at('work/notes')).mode & 0o777).toBe(0o755)
    const {events} = await client.eventsLog({type: 'file.written', limit: 5})
    expect(events[0]).toMatchObject({actor: 'agent:ops', payload: {path: at('work/notes/today.md'), bytes: 8, sha256, created: true, append: false, approval_id: null}})
    expect(listed.entries.map((e) => [e.path, e.type])).toEqual([[at('work/notes'), 'dir'], [at('work/notes/today.md'), 'file']])
    client.close()
  })

  it('never reads or lists the ledger or the token files, even with <state> as a read root', async () => {
    const client = env.client('agentd', agentdApi, 'agent')
    for (const path of [join(env.paths.stateDir, 'ledger.db'), join(env.paths.stateDir, 'ledger.db-wal'), join(env.paths.tokensDir, 'agent'), join(env.paths.tokensDir, 'operator')]) {
      await expect(client.fileRead({path}), path).rejects.toMatchObject({code: 'PATH_DENIED', details: {path}})
    }
    await expect(client.fileList({path: env.paths.tokensDir})).rejects.toMatchObject({code: 'PATH_DENIED'})
    await expect(client.fileWrite({path: join(env.paths.tokensDir, 'agent'), content: 'osm_ag_mine'})).rejects.toMatchObject({code: 'PATH_DENIED'})
    const names = (await client.fileList({path: env.paths.stateDir})).entries.map((e) => e.name)
    expect(names).not.toContain('ledger.db')
    expect(names).not.toContain('tokens')
    expect(readdirSync(env.paths.stateDir)).toEqual(expect.arrayContaining(['ledger.db', 'tokens']))
    client.close()
  })

  it('refuses a symlink out of the roots and a traversal', async () => {
    const client = env.client('agentd', agentdApi, 'agent')
    await expect(client.fileRead({path: at('srv/app/escape')})).rejects.toMatchObject({code: 'PATH_DENIED', details: {reason: 'outside_roots'}})
    await expect(client.fileRead({path: `${at('srv')}/../outside/secret`})).rejects.toMatchObject({code: 'PATH_DENIED', details: {reason: 'traversal'}})
    const listed = await client.fileList({path: at('srv/app')})
    expect(listed.entries.find((e) => e.name === 'escape')).toMatchObject({type: 'symlink', target: at('outside/secret')})
    client.close()
  })
})

const json = (value: unknown) => JSON.stringify(value)
// The table is built before the daemon runs: its paths are placeholders, filled in when a row is sent.
const PLACES = {'{root}': () => root, '{state}': () => env.paths.stateDir, '{tokens}': () => env.paths.tokensDir}
const fill = (text: string) => text.replace(/\{(root|state|tokens)\}/g, (place) => PLACES[place as keyof typeof PLACES]())
const inRoot = (rel: string) => `{root}/${rel}`
const file = () => inRoot('srv/app/app.conf')
const target = () => inRoot('work/target.txt')

// Every file route's bad input (ARCHITECTURE §8): the error envelope with a stable code, nothing written.
const rows: BadInputCase[] = [
  // POST /file/read
  {name: 'read malformed JSON', path: '/file/read', body: '{"path": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'read missing path', path: '/file/read', body: json({}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read path wrong type', path: '/file/read', body: json({path: 7}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read relative path', path: '/file/read', body: json({path: 'etc/passwd'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read empty path', path: '/file/read', body: json({path: ''}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read NUL in path', path: '/file/read', body: json({path: `${file()}\u0000.txt`}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read path over 4096 bytes', path: '/file/read', body: json({path: `/${'é'.repeat(2100)}`}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read unknown field', path: '/file/read', body: json({path: file(), follow_symlinks: false}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read offset_line 0', path: '/file/read', body: json({path: file(), offset_line: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read max_lines 0', path: '/file/read', body: json({path: file(), max_lines: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read max_lines negative', path: '/file/read', body: json({path: file(), max_lines: -5}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read max_lines fractional', path: '/file/read', body: json({path: file(), max_lines: 1.5}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read max_lines huge is clamped', path: '/file/read', body: json({path: file(), max_lines: 10_000_000}), wantStatus: 200, wantCode: ''},
  {name: 'read bad encoding', path: '/file/read', body: json({path: file(), encoding: 'latin1'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read binary as utf8', path: '/file/read', body: json({path: inRoot('srv/app/logo.bin')}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read traversal', path: '/file/read', body: json({path: `${inRoot('srv')}/../outside/secret`}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'read outside the roots', path: '/file/read', body: json({path: inRoot('outside/secret')}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'read /etc/shadow (not a root here, and denied)', path: '/file/read', body: json({path: '/etc/shadow'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'read /proc/self/environ', path: '/file/read', body: json({path: '/proc/self/environ'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'read missing file', path: '/file/read', body: json({path: inRoot('srv/none.txt')}), wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'read over maxReadBytes', path: '/file/read', body: json({path: inRoot('srv/big.log')}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  {name: 'read a directory', path: '/file/read', body: json({path: inRoot('srv')}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'read without token', path: '/file/read', role: 'none', body: json({path: file()}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  {name: 'read with GET', path: '/file/read', method: 'GET', wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
  // POST /file/write
  {name: 'write malformed JSON', path: '/file/write', body: '{', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'write missing content', path: '/file/write', body: json({path: target()}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write content wrong type', path: '/file/write', body: json({path: target(), content: ['a']}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write relative path', path: '/file/write', body: json({path: 'target.txt', content: 'x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write unknown field', path: '/file/write', body: json({path: target(), content: 'x', owner: 'root'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write mode not octal', path: '/file/write', body: json({path: target(), content: 'x', mode: 'rw-r--r--'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write mode setuid', path: '/file/write', body: json({path: target(), content: 'x', mode: '4755'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write mode 999', path: '/file/write', body: json({path: target(), content: 'x', mode: '0999'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write append wrong type', path: '/file/write', body: json({path: target(), content: 'x', append: 'yes'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write malformed approval_id', path: '/file/write', body: json({path: target(), content: 'x', approval_id: 'apr_1'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write bad base64', path: '/file/write', body: json({path: target(), content: '@@@', encoding: 'base64'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write content over maxWriteBytes', path: '/file/write', body: json({path: target(), content: 'x'.repeat(1025)}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  {name: 'write body over 2 MiB', path: '/file/write', body: json({path: target(), content: 'x'.repeat(2 * 1024 * 1024 + 1)}), wantStatus: 413, wantCode: 'PAYLOAD_TOO_LARGE'},
  {name: 'write traversal', path: '/file/write', body: json({path: `${inRoot('work')}/../outside/x`, content: 'x'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'write outside the write roots (a read root)', path: '/file/write', body: json({path: inRoot('srv/app/app.conf'), content: 'x'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'write through a symlink out of the roots', path: '/file/write', body: json({path: inRoot('srv/app/escape'), content: 'x'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'write the ledger', path: '/file/write', body: json({path: '{state}/ledger.db', content: 'x'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'write the operator token', path: '/file/write', body: json({path: '{tokens}/operator', content: 'x'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'write agentd state (masked)', path: '/file/write', body: json({path: '{state}/agentd/x', content: 'x', create_dirs: true}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'write a directory', path: '/file/write', body: json({path: inRoot('work'), content: 'x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'write into a missing directory', path: '/file/write', body: json({path: inRoot('work/no/such.txt'), content: 'x'}), wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'write without token', path: '/file/write', role: 'none', body: json({path: target(), content: 'x'}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
  // POST /file/list
  {name: 'list JSON null', path: '/file/list', body: 'null', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'list missing path', path: '/file/list', body: json({recursive: true}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list recursive wrong type', path: '/file/list', body: json({path: inRoot('srv'), recursive: 1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list limit 0', path: '/file/list', body: json({path: inRoot('srv'), limit: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list limit negative', path: '/file/list', body: json({path: inRoot('srv'), limit: -1}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list limit absurd', path: '/file/list', body: json({path: inRoot('srv'), limit: 1e300}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list limit huge is clamped', path: '/file/list', body: json({path: inRoot('srv'), limit: 1_000_000}), wantStatus: 200, wantCode: ''},
  {name: 'list max_depth 0', path: '/file/list', body: json({path: inRoot('srv'), max_depth: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list max_depth huge is clamped', path: '/file/list', body: json({path: inRoot('srv'), recursive: true, max_depth: 99}), wantStatus: 200, wantCode: ''},
  {name: 'list unknown field', path: '/file/list', body: json({path: inRoot('srv'), sort: 'size'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list a file', path: '/file/list', body: json({path: file()}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list missing directory', path: '/file/list', body: json({path: inRoot('srv/none')}), wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'list outside the roots', path: '/file/list', body: json({path: inRoot('outside')}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'list traversal', path: '/file/list', body: json({path: `${inRoot('srv')}/..`}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'list /', path: '/file/list', body: json({path: '/'}), wantStatus: 403, wantCode: 'PATH_DENIED'},
  {name: 'list without token', path: '/file/list', role: 'none', body: json({path: inRoot('srv')}), wantStatus: 401, wantCode: 'UNAUTHENTICATED'},
]
// Every row but the token-less ones is sent with both roles: the file rules are the same for both.
const cases: BadInputCase[] = rows.flatMap((c) => (c.role === 'none' ? [c] : (['agent', 'operator'] as const).map((role) => ({...c, role}))).map((c) => ({...c, name: `${c.name} (${c.role})`})))

function tree(dir: string): string[] {
  return readdirSync(dir, {recursive: true}).map(String).sort()
}

badInputTable('agentd file routes: bad input, nothing written', cases, {
  send: socketSender({socket: () => agentd.socket, token: (role) => (role === 'agent' ? agent : operator), substitute: fill}),
  // ledger.db-wal/-shm come and go with SQLite's own checkpoints: the ledger's events are counted instead.
  state: () => ({ledger: ledgerSize(env.paths.ledgerDb), root: tree(root), state: tree(env.paths.stateDir).filter((f) => !f.startsWith('ledger.db'))}),
  check: (res, c) => {
    if (c.wantCode === 'PATH_DENIED') expect(res.body.error.details).toMatchObject({path: expect.any(String), reason: expect.any(String)})
  },
})

describe('agentd file routes: bad input', () => {
  it('covers every file route of the contract', () => {
    const covered = new Set(rows.map((c) => `${c.method ?? 'POST'} ${c.path}`))
    const untested = Object.values(agentdApi)
      .filter((r) => r.path.startsWith('/file/'))
      .map((r) => `${r.method} ${r.path}`)
      .filter((key) => !covered.has(key))
    expect(untested).toEqual([])
  })

  it('keeps serving and left the file alone', async () => {
    const client = env.client('agentd', agentdApi)
    expect((await client.fileRead({path: at('srv/app/app.conf')})).content).toBe('listen 8080\nworkers 4\n')
    client.close()
  })
})
