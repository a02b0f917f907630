import {appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, describe, expect, it} from 'vitest'
import {openLedger, type Ledger} from '../../../lib/ledger/ledger.js'
import {createLogger} from '../../../lib/log.js'
import {createMemoryService, type MemoryService} from './service.js'

const NOW = Date.parse('2026-11-25T12:00:00.000Z')
const DAY = 86_400_000
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn()
})

function setup(base = mkdtempSync(join(tmpdir(), 'osmoda-memsvc-'))) {
  let now = NOW
  const ledger: Ledger = openLedger(join(base, 'ledger.db'))
  const make = (): MemoryService =>
    createMemoryService({dir: join(base, 'memory'), indexPath: join(base, 'agentd', 'memory-index.db'), ledger, log: createLogger({level: 'error'}), now: () => now})
  mkdirSync(join(base, 'agentd'), {recursive: true})
  const services: MemoryService[] = []
  const open = () => {
    const service = make()
    services.push(service)
    return service
  }
  cleanups.push(() => {
    for (const s of services) s.close()
    ledger.close()
    rmSync(base, {recursive: true, force: true})
  })
  return {base, ledger, open, setNow: (ms: number) => (now = ms)}
}

// ≥30 memories across categories, tags and months; `age` in days before NOW.
const CORPUS: {key: string; summary: string; detail?: string; category?: string; tags?: string[]; age: number}[] = [
  {key: 'nginx-restart', summary: 'nginx crashed after a config reload and was restarted', detail: 'systemctl restart nginx fixed it; the upstream block had a typo', category: 'incident', tags: ['nginx'], age: 1.2},
  {key: 'nginx-tls', summary: 'Renewed the TLS certificate for nginx', detail: 'certbot renew, then reload', category: 'fix', tags: ['nginx', 'tls'], age: 40},
  {key: 'disk-full', summary: 'Disk full on /var because of journal growth', detail: 'journalctl --vacuum-size=500M freed 12 GiB', category: 'incident', tags: ['disk', 'journald'], age: 3},
  {key: 'disk-alert', summary: 'Operator wants a warning when a disk passes 85 percent', category: 'preference', tags: ['disk'], age: 100},
  {key: 'pg-vacuum', summary: 'PostgreSQL table bloat fixed by VACUUM FULL', detail: 'the orders table had 40% dead tuples', category: 'fix', tags: ['postgres'], age: 10},
  {key: 'pg-conn', summary: 'postgres refused connections: max_connections reached', detail: 'raised max_connections to 200 and added pgbouncer', category: 'incident', tags: ['postgres'], age: 20},
  {key: 'redis-oom', summary: 'redis was killed by the OOM killer', detail: 'set maxmemory 2gb and allkeys-lru', category: 'incident', tags: ['redis', 'memory'], age: 5},
  {key: 'ssh-keys', summary: 'Operator prefers ed25519 SSH keys only', category: 'preference', tags: ['ssh'], age: 200},
  {key: 'ssh-brute', summary: 'Many failed SSH logins from one address range', detail: 'fail2ban banned the range; password auth is off', category: 'security', tags: ['ssh', 'fail2ban'], age: 2},
  {key: 'backup-night', summary: 'Backups run nightly at 03:00 UTC', category: 'preference', tags: ['backup'], age: 300},
  {key: 'backup-failed', summary: 'The nightly backup failed because the target volume was read-only', detail: 'remounted rw and re-ran the backup', category: 'incident', tags: ['backup', 'disk'], age: 7},
  {key: 'kernel-upgrade', summary: 'Kernel upgraded to 6.6 with a NixOS generation switch', detail: 'generation 142; rollback is generation 141', category: 'change', tags: ['nixos', 'kernel'], age: 15},
  {key: 'nix-gc', summary: 'Nix store garbage collection freed 30 GiB', detail: 'nix-collect-garbage --delete-older-than 14d', category: 'fix', tags: ['nixos', 'disk'], age: 25},
  {key: 'dns-resolv', summary: 'DNS resolution broke after resolv.conf was overwritten', detail: 'systemd-resolved stub restored', category: 'incident', tags: ['dns'], age: 60},
  {key: 'cron-dup', summary: 'Duplicate cron jobs were sending two reports', category: 'fix', tags: ['cron'], age: 45},
  {key: 'docker-prune', summary: 'Docker images filled the root filesystem', detail: 'docker system prune -af', category: 'fix', tags: ['docker', 'disk'], age: 33},
  {key: 'cpu-spike', summary: 'CPU spike caused by a runaway python worker', detail: 'the worker looped on a failing API call; added backoff', category: 'incident', tags: ['cpu', 'python'], age: 4},
  {key: 'mem-leak', summary: 'Memory leak in the node app grows 200 MB per hour', detail: 'heap snapshots point to an unbounded cache', category: 'diagnosis', tags: ['node', 'memory'], age: 6},
  {key: 'swap-off', summary: 'Operator does not want swap enabled on this host', category: 'preference', tags: ['memory'], age: 150},
  {key: 'time-drift', summary: 'Clock drift of 3 seconds fixed by enabling chrony', category: 'fix', tags: ['ntp'], age: 80},
  {key: 'firewall-port', summary: 'Opened port 8443 in the firewall for the dashboard', detail: 'networking.firewall.allowedTCPPorts', category: 'change', tags: ['firewall'], age: 12},
  {key: 'mail-queue', summary: 'Postfix mail queue stuck on a DNS lookup failure', detail: 'flushed the queue after the resolver came back', category: 'incident', tags: ['postfix', 'dns'], age: 61},
  {key: 'log-rotate', summary: 'Log rotation was misconfigured for the app logs', detail: 'logrotate weekly, keep 4', category: 'fix', tags: ['logs'], age: 90},
  {key: 'restarting-loop', summary: 'The api service kept restarting in a crash loop', detail: 'missing environment variable DATABASE_URL', category: 'incident', tags: ['api', 'systemd'], age: 0.5},
  {key: 'tls-expiry', summary: 'Certificate expiry check added as a watcher', category: 'change', tags: ['tls', 'watcher'], age: 39},
  {key: 'gpu-driver', summary: 'GPU driver mismatch after a kernel update', detail: 'pinned the nvidia driver to the kernel package set', category: 'incident', tags: ['gpu', 'kernel'], age: 14},
  {key: 'user-added', summary: 'Added user alice with sudo rights at the operator request', category: 'change', tags: ['users'], age: 70},
  {key: 'rate-limit', summary: 'Rate limiting added to the public API in nginx', detail: 'limit_req zone=api burst=20', category: 'change', tags: ['nginx', 'api'], age: 9},
  {key: 'zfs-scrub', summary: 'ZFS scrub found and repaired two checksum errors', category: 'diagnosis', tags: ['zfs', 'disk'], age: 120},
  {key: 'prefs-quiet', summary: 'Operator prefers no notifications between 22:00 and 07:00', category: 'preference', tags: ['notifications'], age: 365},
  {key: 'io-wait', summary: 'High IO wait traced to a failing SATA disk', detail: 'smartctl showed reallocated sectors; disk replaced', category: 'diagnosis', tags: ['disk', 'hardware'], age: 200},
  {key: 'webhook-timeout', summary: 'Outgoing webhook timed out behind the egress proxy', category: 'incident', tags: ['egress'], age: 11},
]

function seed(service: MemoryService, setNow: (ms: number) => void): Map<string, string> {
  const ids = new Map<string, string>()
  for (const m of CORPUS) {
    setNow(NOW - m.age * DAY)
    ids.set(m.key, service.store({summary: m.summary, detail: m.detail, category: m.category ?? 'general', tags: m.tags}, {actor: 'agent:ops', agentId: 'ops'}).id)
  }
  setNow(NOW)
  return ids
}

// ≥20 queries with their expected top result (and optional expectations on the whole set).
const QUERIES: {name: string; input: {query: string; timeframe?: string; category?: string; tags?: string[]}; top: string; all?: string[]; none?: string[]}[] = [
  {name: 'stemming: restarting finds restarted', input: {query: 'restarting nginx'}, top: 'nginx-restart'},
  {name: 'stemming: crashes → crashed/crash', input: {query: 'crashes loop'}, top: 'restarting-loop'},
  {name: 'single word in the summary beats the detail', input: {query: 'vacuum'}, top: 'pg-vacuum'},
  {name: 'multiple words', input: {query: 'disk full journal'}, top: 'disk-full'},
  {name: 'phrase', input: {query: '"crash loop"'}, top: 'restarting-loop', all: ['restarting-loop']},
  {name: 'phrase does not match the words apart', input: {query: '"full disk"'}, top: 'NONE'},
  {name: 'prefix', input: {query: 'vacu*'}, top: 'pg-vacuum', all: ['pg-vacuum', 'disk-full']},
  {name: 'prefix matching two spellings', input: {query: 'postgre*'}, top: 'pg-conn', all: ['pg-conn', 'pg-vacuum']},
  {name: 'tags are searched', input: {query: 'fail2ban'}, top: 'ssh-brute'},
  {name: 'detail is searched', input: {query: 'pgbouncer'}, top: 'pg-conn'},
  {name: 'category is searched', input: {query: 'preference swap'}, top: 'swap-off'},
  {name: 'category filter', input: {query: 'nginx', category: 'change'}, top: 'rate-limit', all: ['rate-limit']},
  {name: 'category filter applied before the limit', input: {query: 'disk', category: 'preference'}, top: 'disk-alert', all: ['disk-alert']},
  {name: 'tag filter', input: {query: 'disk', tags: ['nixos']}, top: 'nix-gc', all: ['nix-gc']},
  {name: 'several tags must all match', input: {query: 'kernel', tags: ['gpu', 'kernel']}, top: 'gpu-driver', all: ['gpu-driver']},
  {name: 'timeframe 24h', input: {query: 'crash restart', timeframe: '24h'}, top: 'restarting-loop', all: ['restarting-loop']},
  {name: 'timeframe 7d', input: {query: 'disk', timeframe: '7d'}, top: 'disk-full', none: ['io-wait', 'nix-gc']},
  {name: 'timeframe 30m finds nothing old', input: {query: 'nginx', timeframe: '30m'}, top: 'NONE'},
  {name: 'timeframe instant', input: {query: 'memory', timeframe: '2026-11-18T00:00:00Z'}, top: 'mem-leak', all: ['mem-leak', 'redis-oom']},
  {name: 'timeframe calendar month', input: {query: 'tls', timeframe: '2026-10'}, top: 'nginx-tls', all: ['nginx-tls', 'tls-expiry']},
  {name: 'timeframe calendar year', input: {query: 'notifications', timeframe: '2025'}, top: 'prefs-quiet'},
  {name: 'dotted and dashed terms', input: {query: 'resolv.conf'}, top: 'dns-resolv'},
  {name: 'or-ed terms widen the result', input: {query: 'redis docker'}, top: 'docker-prune', all: ['redis-oom', 'docker-prune']},
  {name: 'snake_case term', input: {query: 'max_connections'}, top: 'pg-conn'},
  {name: 'case-insensitive', input: {query: 'ZFS SCRUB'}, top: 'zfs-scrub'},
  {name: 'operator words are plain terms', input: {query: 'NOT AND OR egress'}, top: 'webhook-timeout'},
]

describe('memory recall test set', () => {
  it('has ≥30 memories and ≥20 queries', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(30)
    expect(QUERIES.length).toBeGreaterThanOrEqual(20)
  })

  it.each(QUERIES)('$name', (q) => {
    // Given the corpus stored through the service
    const env = setup()
    const service = env.open()
    const ids = seed(service, env.setNow)
    const keyOf = new Map([...ids].map(([k, v]) => [v, k]))
    // When recalled
    const result = service.recall({max_results: 100, ...q.input})
    const keys = result.memories.map((m) => keyOf.get(m.id))
    // Then the expected memory ranks first, with relevance 1 and the others below
    if (q.top === 'NONE') expect(keys).toEqual([])
    else expect(keys[0]).toBe(q.top)
    if (q.all) expect([...keys].sort()).toEqual([...q.all].sort())
    for (const key of q.none ?? []) expect(keys).not.toContain(key)
    if (result.memories.length) expect(result.memories[0]!.relevance).toBe(1)
    expect(result.memories.every((m) => m.relevance > 0 && m.relevance <= 1)).toBe(true)
    expect(result.total_matches).toBe(result.memories.length)
  })
})

describe('memory service', () => {
  it('clamps and reports truncation', async () => {
    const env = setup()
    const service = env.open()
    seed(service, env.setNow)
    const result = service.recall({query: 'disk', max_results: 2})
    expect(result.memories).toHaveLength(2)
    expect(result.truncated).toBe(true)
    expect(result.total_matches).toBeGreaterThan(2)
  })

  it('ledgers memory.stored with ids, category and tags only, never the text', async () => {
    const env = setup()
    const service = env.open()
    const {id, seq, path} = service.store({summary: 'api_key=hunter2 password hunter2', detail: 'token hunter2', category: 'general', tags: ['x']}, {actor: 'agent:ops', agentId: 'ops'})
    const event = env.ledger.query({limit: 1, order: 'desc'})[0]!
    expect(event).toMatchObject({seq, type: 'memory.stored', actor: 'agent:ops', payload: {memory_id: id, category: 'general', tags: ['x']}})
    expect(JSON.stringify(event.payload)).not.toContain('hunter2')
    expect(readFileSync(path, 'utf8')).toContain('agent_id: "ops"')
  })

  it('redacts secret-named metadata keys of ingested memories', async () => {
    const env = setup()
    const service = env.open()
    service.ingest({summary: 'deploy finished', category: 'deploy', source: 'watch', metadata: {api_key: 'sk-123', token_id: 't1', unit: 'x'}}, {actor: 'watch', agentId: null})
    const [file] = service.recall({query: 'deploy', max_results: 1}).memories
    expect(file?.source).toBe('watch')
    const text = readFileSync(join(env.base, 'memory', 'deploy', '2026-11', `${file!.id}.md`), 'utf8')
    expect(text).not.toContain('sk-123')
    expect(text).toContain('"token_id":"t1"')
  })

  it('rebuilds a deleted or corrupt index with identical recall results', async () => {
    // Given a seeded memory store and the recall answers of the test set
    const env = setup()
    const first = env.open()
    seed(first, env.setNow)
    const answers = () => QUERIES.map((q) => env.open().recall({max_results: 100, ...q.input}))
    const before = QUERIES.map((q) => first.recall({max_results: 100, ...q.input}))
    first.close()
    const indexPath = join(env.base, 'agentd', 'memory-index.db')
    // When the index is deleted / Then a new service rebuilds it with the same answers
    rmSync(indexPath)
    rmSync(`${indexPath}-wal`, {force: true})
    rmSync(`${indexPath}-shm`, {force: true})
    const rebuilt = answers()
    expect(rebuilt).toEqual(before)
    // When the index is corrupted / Then the same
    writeFileSync(indexPath, Buffer.alloc(8192, 7))
    rmSync(`${indexPath}-wal`, {force: true})
    rmSync(`${indexPath}-shm`, {force: true})
    const fresh = env.open()
    expect(fresh.health()).toMatchObject({index_ok: true, memory_count: CORPUS.length})
    expect(QUERIES.map((q) => fresh.recall({max_results: 100, ...q.input}))).toEqual(before)
    expect(env.ledger.query({type: 'memory.reindexed', limit: 10, order: 'desc'}).map((e) => e.payload.reason)).toEqual(expect.arrayContaining(['missing', 'corrupt']))
  })

  it('rebuilds an index whose ranker terms are missing or unreadable, and of an older version', async () => {
    // Given a seeded memory store and its recall answers
    const env = setup()
    const first = env.open()
    seed(first, env.setNow)
    const before = QUERIES.map((q) => first.recall({max_results: 100, ...q.input}))
    first.close()
    const indexPath = join(env.base, 'agentd', 'memory-index.db')
    const damage = (sql: string) => {
      const db = new Database(indexPath)
      db.exec(sql)
      db.close()
    }
    // When term rows go missing, the vocabulary loses terms, or the version is the previous one
    for (const sql of ['DELETE FROM memory_terms WHERE rowid % 2 = 0', 'DELETE FROM memory_vocab WHERE id % 3 = 0', 'PRAGMA user_version = 1']) {
      damage(sql)
      const service = env.open()
      // Then the service rebuilds at start and answers as before
      expect(service.health()).toMatchObject({index_ok: true, memory_count: CORPUS.length})
      expect(QUERIES.map((q) => service.recall({max_results: 100, ...q.input}))).toEqual(before)
      service.close()
    }
    expect(env.ledger.query({type: 'memory.reindexed', limit: 10, order: 'desc'}).map((e) => e.payload.reason)).toEqual(['schema', 'corrupt', 'corrupt', 'missing'])
  })

  it('follows hand edits and deletions with a scan, and rebuilds on reindex', async () => {
    const env = setup()
    const service = env.open()
    const a = service.store({summary: 'original words here', category: 'general'}, {actor: 'operator:root', agentId: null})
    const b = service.store({summary: 'another note', category: 'general'}, {actor: 'operator:root', agentId: null})
    // When a file is edited by hand and another deleted, and the index is rebuilt
    appendFileSync(a.path, '\n## Detail\n\nzanzibar appears now\n')
    rmSync(b.path)
    expect(service.reindex()).toEqual({state: 'running'})
    expect(() => service.reindex()).toThrow(expect.objectContaining({code: 'CONFLICT'}))
    await service.settle()
    // Then recall finds the new words and not the deleted memory
    expect(service.recall({query: 'zanzibar', max_results: 10}).memories.map((m) => m.id)).toEqual([a.id])
    expect(service.recall({query: 'another', max_results: 10}).memories).toEqual([])
    expect(service.health()).toMatchObject({status: 'ok', memory_count: 1, vector_search: 'not_available'})
    expect(env.ledger.query({type: 'memory.reindexed', limit: 1, order: 'desc'})[0]?.payload).toMatchObject({count: 1, reason: 'requested'})
  })
})

describe('memory scan schedule', () => {
  it('scans on its interval, follows a new interval, and stops on abort', async () => {
    // Given a service scanning every 60 s
    const env = setup()
    const service = env.open()
    const stored = service.store({summary: 'scheduled scan subject', category: 'general'}, {actor: 'operator:root', agentId: null})
    const controller = new AbortController()
    service.start(60, controller.signal)
    appendFileSync(stored.path, '\n## Detail\n\nmarmalade\n')
    // When the interval is changed to 1 s (as a reload does)
    service.setScanSecs(1)
    let found = 0
    for (let i = 0; i < 40 && !found; i++) {
      await new Promise((r) => setTimeout(r, 100))
      found = service.recall({query: 'marmalade', max_results: 1}).memories.length
    }
    // Then the edit is indexed without a reindex
    expect(found).toBe(1)
    controller.abort()
    service.setScanSecs(1)
  })
})
