// Bad input on every /switch route of watch: the error envelope, the daemon still serving, nothing
// written (no session, no switch.* event).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {join} from 'node:path'
import {watchApi} from '../src/daemons/watch/api.js'
import {openLedger} from '../src/lib/ledger/ledger.js'
import {testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {rawRequest} from './helpers/raw-request.js'
import {badInputTable, onRoute, socketSender, type BadInputCase} from './helpers/bad-input.js'

let env: TestEnv
let watch: DaemonProcess
const sw = 'sw_01JDX8Q4S1T6V0W7Y2Z3A4B5C6'
const storePath = '/nix/store/00000000000000000000000000000000-missing'

beforeAll(async () => {
  env = await testEnv()
  // The current-system link does not exist: nixos targets are refused with NIX_UNAVAILABLE.
  watch = await env.start('watch', {OSMODA_WATCH_CURRENT_SYSTEM_LINK: join(env.base, 'no-such-link'), OSMODA_WATCH_SYSTEM_PROFILE: join(env.base, 'profiles', 'system')})
})

afterAll(async () => {
  await watch?.stopClean()
  await env?.cleanup()
})

const send = socketSender({socket: () => watch.socket, token: (role) => env.token(role)})

const plan = 'bad input'
const cmd = (command: string, args: unknown = []) => ({type: 'commands', apply: [{command, args}], revert: []})
const check = (c: unknown) => ({plan, target: cmd('/bin/true'), health_checks: [c]})

const BEGIN = onRoute('POST', '/switch/begin', [
  {name: 'malformed JSON', body: '{"plan": ', wantStatus: 400, wantCode: 'INVALID_JSON'},
  {name: 'missing plan', body: {target: cmd('/bin/true')}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'empty plan', body: {plan: ''}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'plan over 500 chars', body: {plan: 'x'.repeat(501)}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown field', body: {plan, force: true}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown target type', body: {plan, target: {type: 'docker'}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'two sources at once', body: {plan, target: {type: 'nixos', source: {config: true, generation: 3}}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'config: false', body: {plan, target: {type: 'nixos', source: {config: false}}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store path outside the store', body: {plan, target: {type: 'nixos', source: {store_path: '/tmp/system'}}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store path with traversal', body: {plan, target: {type: 'nixos', source: {store_path: `${storePath}/../../etc`}}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'store path that does not exist', body: {plan, target: {type: 'nixos', source: {store_path: storePath}}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'generation 0', body: {plan, target: {type: 'nixos', source: {generation: 0}}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'generation that does not exist', body: {plan, target: {type: 'nixos', source: {generation: 7}}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'flake without #host', body: {plan, target: {type: 'nixos', source: {flake: '/etc/nixos'}}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'edit outside /etc/nixos', body: {plan, target: {type: 'nixos', source: {config: true}, edits: [{path: '/etc/passwd', content: ''}]}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'edit with ..', body: {plan, target: {type: 'nixos', source: {config: true}, edits: [{path: '/etc/nixos/../shadow', content: ''}]}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'commands without apply', body: {plan, target: {type: 'commands', apply: [], revert: []}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'relative apply executable', body: {plan, target: cmd('sysctl', ['-w', 'x=1'])}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'missing apply executable', body: {plan, target: cmd('/nonexistent/bin/sysctl')}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'missing revert executable', body: {plan, target: {type: 'commands', apply: [{command: '/bin/true', args: []}], revert: [{command: '/nope/undo', args: []}]}}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'args not strings', body: {plan, target: cmd('/bin/true', [1, 2])}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: '65 args', body: {plan, target: cmd('/bin/true', Array(65).fill('a'))}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unknown check type', body: check({type: 'ping', host: 'x'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'relative check command', body: check({type: 'command', command: 'curl'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'missing check command', body: check({type: 'command', command: '/nonexistent/check'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'port 0', body: check({type: 'tcp_port', port: 0}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'port 70000', body: check({type: 'tcp_port', port: 70_000}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'ftp url', body: check({type: 'http_get', url: 'ftp://127.0.0.1/'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'unit with a space', body: check({type: 'systemd_unit', unit: 'nginx service'}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'check timeout 121', body: check({type: 'http_get', url: 'http://127.0.0.1/', timeout_secs: 121}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'check with unknown field', body: check({type: 'tcp_port', port: 80, retries: 3}), wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: '33 checks', body: {plan, target: cmd('/bin/true'), health_checks: Array(33).fill({type: 'tcp_port', port: 80})}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'negative ttl', body: {plan, ttl_secs: -1}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'ttl below 30', body: {plan, ttl_secs: 29}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'huge ttl', body: {plan, ttl_secs: 1e12}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'fractional ttl', body: {plan, ttl_secs: 30.5}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'ttl as string', body: {plan, ttl_secs: '300'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'negative grace', body: {plan, grace_secs: -5}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'grace over an hour', body: {plan, grace_secs: 3601}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'threshold 0', body: {plan, failure_threshold: 0}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'threshold 101', body: {plan, failure_threshold: 101}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'interval 0', body: {plan, check_interval_secs: 0}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'interval 301', body: {plan, check_interval_secs: 301}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'baseline_checks as string', body: {plan, baseline_checks: 'yes'}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'nixos target without a running system', body: {plan, target: {type: 'nixos', source: {config: true}}}, wantStatus: 503, wantCode: 'NIX_UNAVAILABLE'},
])

const OTHER: BadInputCase[] = [
  {name: 'list: limit 0', method: 'GET', path: '/switch/list?limit=0', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: negative limit', method: 'GET', path: '/switch/list?limit=-1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: fractional limit', method: 'GET', path: '/switch/list?limit=1.5', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: bad status', method: 'GET', path: '/switch/list?status=exploded', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: bad cursor', method: 'GET', path: '/switch/list?cursor=..%2F..', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'list: unknown parameter', method: 'GET', path: '/switch/list?all=1', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get: bad id', method: 'GET', path: '/switch/sw_nope', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get: traversal id', method: 'GET', path: '/switch/..%2F..%2Fetc', wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'get: unknown id', method: 'GET', path: `/switch/${sw}`, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'commit: bad id', method: 'POST', path: '/switch/sw_1/commit', body: {}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'commit: unknown id', method: 'POST', path: `/switch/${sw}/commit`, body: {}, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'commit: unknown field', method: 'POST', path: `/switch/${sw}/commit`, body: {force: true}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'commit: GET', method: 'GET', path: `/switch/${sw}/commit`, wantStatus: 405, wantCode: 'METHOD_NOT_ALLOWED'},
  {name: 'rollback: reason over 500', method: 'POST', path: `/switch/${sw}/rollback`, body: {reason: 'x'.repeat(501)}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rollback: reason not a string', method: 'POST', path: `/switch/${sw}/rollback`, body: {reason: 5}, wantStatus: 400, wantCode: 'VALIDATION_FAILED'},
  {name: 'rollback: unknown id', method: 'POST', path: `/switch/${sw}/rollback`, body: {reason: 'x'}, wantStatus: 404, wantCode: 'NOT_FOUND'},
  {name: 'reload: agent role', method: 'POST', path: '/reload', body: {}, role: 'agent', wantStatus: 403, wantCode: 'FORBIDDEN'},
]

badInputTable('watch bad input: POST /switch/begin', BEGIN, {send})
badInputTable('watch bad input: other /switch routes', OTHER, {send})

describe('watch after the bad input', () => {
  it('rejects an unknown token and clamps a huge list limit', async () => {
    const res = await rawRequest(watch.socket, 'GET', '/switch/list', {headers: {authorization: 'Bearer osm_op_nope'}})
    expect(res.status).toBe(401)
    expect((await env.client('watch', watchApi).switchList({limit: 1_000_000})).switches).toEqual([])
  })

  it('wrote nothing and still serves', async () => {
    const health = await env.client('watch', watchApi, 'agent').health()
    expect(health).toMatchObject({status: 'ok', daemon: 'watch', active_switches: 0, current_system: null, current_generation: null})
    const ledger = openLedger(env.paths.ledgerDb, {readonly: true})
    expect(ledger.query({type: 'switch.*', limit: 10, order: 'asc'})).toEqual([])
    ledger.close()
  })
})
