import {once} from 'node:events'
import {mkdir, mkdtemp, rm, symlink, utimes} from 'node:fs/promises'
import {createServer} from 'node:net'
import type {AddressInfo} from 'node:net'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {listGenerations, parseServiceUnits, runSystemQuery} from './query.js'
import {SystemQueryInput, SystemQueryOutputSchema} from './query-schema.js'

describe('SystemQueryInput', () => {
  it.each([
    {name: 'defaults', input: {query: 'processes'}, wantOk: true, wantIssues: []},
    {name: 'a good processes query', input: {query: 'processes', args: {sort: 'memory', limit: 10, name: 'nginx'}}, wantOk: true, wantIssues: []},
    {name: 'a huge limit (clamped later)', input: {query: 'connections', args: {limit: 1_000_000}}, wantOk: true, wantIssues: []},
    {name: 'an unknown query', input: {query: 'kernel'}, wantOk: false, wantIssues: ['query: ']},
    {name: 'a bad sort enum', input: {query: 'processes', args: {sort: 'disk'}}, wantOk: false, wantIssues: ['args.sort: ']},
    {name: 'limit 0', input: {query: 'processes', args: {limit: 0}}, wantOk: false, wantIssues: ['args.limit: ']},
    {name: 'a negative limit', input: {query: 'services', args: {limit: -5}}, wantOk: false, wantIssues: ['args.limit: ']},
    {name: 'a fractional limit', input: {query: 'connections', args: {limit: 1.5}}, wantOk: false, wantIssues: ['args.limit: ']},
    {name: 'an unknown args key', input: {query: 'processes', args: {foo: 1}}, wantOk: false, wantIssues: ['args: ']},
    {name: 'an arg of another query', input: {query: 'processes', args: {state: 'failed'}}, wantOk: false, wantIssues: ['args: not an argument of the processes query: state']},
    {name: 'args on a query that takes none', input: {query: 'disk', args: {limit: 5}}, wantOk: false, wantIssues: ['args: not an argument of the disk query: limit']},
    {name: 'a name too long', input: {query: 'processes', args: {name: 'x'.repeat(65)}}, wantOk: false, wantIssues: ['args.name: ']},
    {name: 'an unknown top-level key', input: {query: 'disk', extra: true}, wantOk: false, wantIssues: [': ']},
  ])('$name', ({input, wantOk, wantIssues}) => {
    const parsed = SystemQueryInput.safeParse(input)
    expect(parsed.success).toBe(wantOk)
    const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    expect(issues).toHaveLength(wantIssues.length)
    wantIssues.forEach((prefix, i) => expect(issues[i]?.startsWith(prefix)).toBe(true))
  })

  it('keeps its object shape for tool schemas', () => {
    expect(Object.keys(SystemQueryInput.shape)).toEqual(['query', 'args'])
  })
})

describe('runSystemQuery validation', () => {
  it.each([
    {name: 'unknown query', query: 'kernel', args: {}, wantCode: 'VALIDATION_FAILED', wantDetail: 'query: expected one of'},
    {name: 'bad enum', query: 'processes', args: {sort: 'disk'}, wantCode: 'VALIDATION_FAILED', wantDetail: 'args.sort: '},
    {name: 'limit 0', query: 'processes', args: {limit: 0}, wantCode: 'VALIDATION_FAILED', wantDetail: 'args.limit: '},
    {name: 'negative limit', query: 'connections', args: {limit: -1}, wantCode: 'VALIDATION_FAILED', wantDetail: 'args.limit: '},
    {name: 'fractional limit', query: 'services', args: {limit: 1.5}, wantCode: 'VALIDATION_FAILED', wantDetail: 'args.limit: '},
    {name: 'unknown key', query: 'ports', args: {verbose: true}, wantCode: 'VALIDATION_FAILED', wantDetail: 'args: not an argument of the ports query: verbose'},
    {name: 'services without systemd', query: 'services', args: {}, wantCode: 'SYSTEMD_UNAVAILABLE', wantDetail: null},
  ])('$name → $wantCode', async ({query, args, wantCode, wantDetail}) => {
    const error = await runSystemQuery(query, args).catch((e: unknown) => e)
    expect(error).toMatchObject({code: wantCode})
    if (wantDetail) expect((error as {details: string[]}).details.some((d) => d.startsWith(wantDetail))).toBe(true)
    if (wantCode === 'SYSTEMD_UNAVAILABLE') expect(error).toMatchObject({httpStatus: 503, hint: expect.any(String)})
  })

  it('clamps a huge processes limit to 500', async () => {
    const answer = await runSystemQuery('processes', {limit: 100_000, sort: 'memory'})
    expect(answer.query).toBe('processes')
    expect((answer.result as unknown[]).length).toBeLessThanOrEqual(500)
  })
})

describe('runSystemQuery on this machine', () => {
  it('answers hostname, uptime and disk', async () => {
    expect(await runSystemQuery('hostname')).toEqual({query: 'hostname', result: {hostname: hostname()}})
    expect(await runSystemQuery('uptime')).toMatchObject({query: 'uptime', result: {uptime_secs: expect.any(Number), boot_time: expect.stringMatching(/Z$/)}})
    const disk = await runSystemQuery('disk')
    expect(disk.result).toEqual(expect.arrayContaining([expect.objectContaining({mount_point: '/', fstype: expect.any(String)})]))
  })

  it('lists processes including this one, by default 50 at most', async () => {
    const all = await runSystemQuery('processes', {sort: 'memory', limit: 500})
    expect(all.result).toEqual(expect.arrayContaining([expect.objectContaining({pid: process.pid})]))
    expect(((await runSystemQuery('processes')).result as unknown[]).length).toBeLessThanOrEqual(50)
  })

  it('lists a listening port of this process', async () => {
    const server = createServer().listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const port = (server.address() as AddressInfo).port
      const answer = await runSystemQuery('ports')
      expect(answer.result).toEqual(expect.arrayContaining([{proto: 'tcp', address: '127.0.0.1', port, pid: process.pid, process: expect.any(String)}]))
    } finally {
      server.close()
    }
  })

  it('answers connections and [] generations without Nix', async () => {
    expect(Array.isArray((await runSystemQuery('connections', {limit: 5})).result)).toBe(true)
    expect(await runSystemQuery('generations')).toEqual({query: 'generations', result: []})
  })
})

describe('parseServiceUnits', () => {
  it('splits systemctl --plain --no-legend lines', () => {
    const text = `nginx.service            loaded active running A high performance web server
osmoda-agentd.service    loaded failed failed  osmoda agentd
missing.service          not-found inactive dead missing.service
`
    expect(parseServiceUnits(text)).toEqual([
      {unit: 'nginx.service', load_state: 'loaded', active_state: 'active', sub_state: 'running', description: 'A high performance web server'},
      {unit: 'osmoda-agentd.service', load_state: 'loaded', active_state: 'failed', sub_state: 'failed', description: 'osmoda agentd'},
      {unit: 'missing.service', load_state: 'not-found', active_state: 'inactive', sub_state: 'dead', description: 'missing.service'},
    ])
  })
})

describe('listGenerations', () => {
  it('lists the profile links newest first with current and booted', async () => {
    // Given a fake profile dir: generations 1..3 pointing into a fake store, system → 3, booted → 2
    const root = await mkdtemp(join(tmpdir(), 'osmoda-gen-'))
    try {
      const profiles = join(root, 'profiles')
      await mkdir(profiles)
      for (const n of [1, 2, 3]) {
        const store = join(root, 'store', `nixos-system-${n}`)
        await mkdir(store, {recursive: true})
        await symlink(store, join(profiles, `system-${n}-link`))
        const time = new Date(Date.UTC(2026, 0, n, 12, 0, 0, 123))
        await utimes(join(profiles, `system-${n}-link`), time, time).catch(() => {})
      }
      await symlink('system-3-link', join(profiles, 'system'))
      await symlink(join(profiles, 'system-2-link'), join(root, 'booted-system'))
      await symlink('/nowhere', join(profiles, 'per-user'))
      // When listing
      const generations = await listGenerations({profilesDir: profiles, bootedLink: join(root, 'booted-system')})
      // Then
      expect(generations.map((g) => [g.number, g.current, g.booted])).toEqual([
        [3, true, false],
        [2, false, true],
        [1, false, false],
      ])
      expect(generations[0]?.path).toBe(join(root, 'store', 'nixos-system-3'))
      expect(generations[0]?.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    } finally {
      await rm(root, {recursive: true, force: true})
    }
  })

  it('returns [] without a system profile', async () => {
    expect(await listGenerations({profilesDir: '/nonexistent/profiles'})).toEqual([])
  })
})

describe('system query output contract', () => {
  it.each(['processes', 'disk', 'hostname', 'uptime', 'ports', 'connections', 'generations'])('%s answers within SystemQueryOutputSchema', async (query) => {
    const answer = await runSystemQuery(query, {})
    const parsed = SystemQueryOutputSchema.safeParse(answer)
    expect(parsed.success, parsed.success ? '' : parsed.error.message).toBe(true)
  })
})
