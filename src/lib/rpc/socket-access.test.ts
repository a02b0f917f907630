import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import type {Logger} from '../log.js'
import {decideSocketAccess, groupId, secureSocket} from './socket-access.js'

describe('decideSocketAccess (SPEC §1.1)', () => {
  it.each([
    {name: 'root, group exists', gid: 1234, who: {uid: 0, gids: [0]}, want: {mode: 0o660, gid: 1234, warning: null}},
    {name: 'non-root member (e.g. osmoda-egress in osmoda-sandbox)', gid: 1234, who: {uid: 990, gids: [990, 1234]}, want: {mode: 0o660, gid: 1234, warning: null}},
    {name: 'non-root whose primary group it is', gid: 990, who: {uid: 990, gids: [990]}, want: {mode: 0o660, gid: 990, warning: null}},
  ])('$name → 0660 with the group', ({gid, who, want}) => {
    expect(decideSocketAccess('osmoda', gid, who)).toEqual(want)
  })

  it('keeps the socket owner-only (0600) with a warning when the group does not exist, as root or not', () => {
    for (const who of [{uid: 0, gids: [0]}, {uid: 1000, gids: [1000]}]) {
      const access = decideSocketAccess('osmoda', null, who)
      expect(access).toMatchObject({mode: 0o600, gid: null})
      expect(access.warning).toMatch(/group osmoda does not exist/)
    }
  })

  it('keeps the socket owner-only (0600) with a warning for a non-root process outside the group', () => {
    const access = decideSocketAccess('osmoda', 1234, {uid: 1000, gids: [1000, 27]})
    expect(access).toMatchObject({mode: 0o600, gid: null})
    expect(access.warning).toMatch(/uid 1000\) is not in group osmoda/)
  })
})

describe('groupId and secureSocket on a real socket', () => {
  let dir: string
  let server: Server
  let path: string
  let warnings: Record<string, unknown>[]
  const log = {debug() {}, info() {}, error() {}, warn: (_msg: string, fields?: Record<string, unknown>) => void warnings.push(fields ?? {}), child: () => log} as Logger

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'osmoda-sock-'))
    path = join(dir, 'x.sock')
    warnings = []
    server = createServer()
    await new Promise<void>((resolve) => server.listen(path, resolve))
  })

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, {recursive: true, force: true})
  })

  it('reads a gid from a group file, and null for a missing group, a bad gid or a missing file', () => {
    const groupFile = join(dir, 'group')
    writeFileSync(groupFile, 'root:x:0:\nosmoda-sandbox:x:4242:osmoda-egress\nbad:x:notanumber:\n')
    expect(groupId('osmoda-sandbox', groupFile)).toBe(4242)
    expect(groupId('bad', groupFile)).toBeNull()
    expect(groupId('nope', groupFile)).toBeNull()
    expect(groupId('x', join(dir, 'missing'))).toBeNull()
  })

  it('gives the socket the group and 0660 when the process may, and says nothing', () => {
    // Given a group file naming this process's own primary group
    const own = process.getgid?.() ?? 0
    const groupFile = join(dir, 'group')
    writeFileSync(groupFile, `mine:x:${own}:\n`)
    // When the socket is secured for that group
    const access = secureSocket(path, 'mine', log, {groupFile})
    // Then it is 0660 with that gid and nothing was logged
    expect(access).toEqual({mode: 0o660, gid: own, warning: null})
    expect([statSync(path).mode & 0o777, statSync(path).gid]).toEqual([0o660, own])
    expect(warnings).toEqual([])
  })

  it('leaves the socket 0600 and logs one warning naming the socket when the group is missing', () => {
    const groupFile = join(dir, 'group')
    writeFileSync(groupFile, 'root:x:0:\n')
    const gidBefore = statSync(path).gid
    const access = secureSocket(path, 'osmoda', log, {groupFile})
    expect(access.mode).toBe(0o600)
    expect([statSync(path).mode & 0o777, statSync(path).gid]).toEqual([0o600, gidBefore])
    expect(warnings).toEqual([{socket: path, group: 'osmoda', detail: expect.stringContaining('does not exist')}])
  })

  it('leaves the socket 0600 for a non-root identity outside an existing group (decided, not attempted)', () => {
    const groupFile = join(dir, 'group')
    writeFileSync(groupFile, 'osmoda:x:4242:\n')
    const access = secureSocket(path, 'osmoda', log, {groupFile, who: {uid: 1000, gids: [1000]}})
    expect(access.mode).toBe(0o600)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(warnings).toHaveLength(1)
  })
})
