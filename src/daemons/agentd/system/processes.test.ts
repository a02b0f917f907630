import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {listProcesses, parsePasswd, parseProcStat, parseProcStatus, readProcessContext, readProcessInfo} from './processes.js'

describe('parseProcStat', () => {
  it('reads fields after a name containing spaces and parentheses', () => {
    // Given a process named "a) (b c" (names are arbitrary up to 15 bytes)
    const text = '4242 (a) (b c) S 1 4242 4242 0 -1 4194560 500 0 0 0 120 30 0 0 20 0 1 0 98765 10000000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n'
    // Then the fields line up after the last ')'
    expect(parseProcStat(text)).toEqual({pid: 4242, name: 'a) (b c', state: 'S', ppid: 1, cpuTicks: 150, startTicks: 98765})
  })

  it('returns null for garbage', () => {
    expect(parseProcStat('')).toBeNull()
    expect(parseProcStat('12 (x) S 1')).toBeNull()
  })
})

describe('parseProcStatus', () => {
  it('takes the effective uid and VmRSS in bytes', () => {
    expect(parseProcStatus('Name:\tx\nUid:\t1000\t0\t0\t0\nVmRSS:\t    2072 kB\n')).toEqual({uid: 0, rssBytes: 2072 * 1024})
  })

  it('reports 0 bytes for kernel threads', () => {
    expect(parseProcStatus('Name:\tkworker/0:1\nUid:\t0\t0\t0\t0\n')).toEqual({uid: 0, rssBytes: 0})
  })
})

describe('parsePasswd', () => {
  it('maps uids to names, first entry wins', () => {
    const users = parsePasswd('root:x:0:0:root:/root:/bin/sh\n# comment\nnginx:x:101:101::/var/empty:/sbin/nologin\ntoor:x:0:0::/:/bin/sh\n')
    expect([...users]).toEqual([
      [0, 'root'],
      [101, 'nginx'],
    ])
  })
})

describe('live processes', () => {
  it('lists this test process with its facts', async () => {
    // Given this very process
    // When listing every process by memory
    const rows = await listProcesses({sort: 'memory', limit: 500})
    // Then it is there, with sane values
    const self = rows.find((row) => row.pid === process.pid)
    expect(self).toMatchObject({pid: process.pid, ppid: process.ppid, status: expect.any(String)})
    expect(self?.memory).toBeGreaterThan(1024 * 1024)
    expect(self?.cpu_usage).toBeGreaterThanOrEqual(0)
    expect(self?.user).toBe(process.getuid?.() === 0 ? 'root' : expect.any(String))
    expect(self?.start_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(Date.parse(self?.start_time ?? '')).toBeLessThanOrEqual(Date.now())
    expect(self?.command).toContain('node')
    // And rows come in descending memory order
    for (let i = 1; i < rows.length; i++) expect((rows[i - 1]?.memory ?? 0) >= (rows[i]?.memory ?? 0)).toBe(true)
  })

  it('filters by name and honours the limit', async () => {
    // Given a child with a distinctive command line
    const child = spawn('sleep', ['31.4159'], {stdio: 'ignore'})
    try {
      // When filtering on part of it
      const rows = await listProcesses({sort: 'cpu', limit: 5, name: '31.415'})
      // Then only that child matches
      expect(rows.map((row) => row.pid)).toEqual([child.pid])
      expect(rows[0]).toMatchObject({name: 'sleep', ppid: process.pid, command: 'sleep 31.4159'})
      expect(await listProcesses({sort: 'cpu', limit: 1})).toHaveLength(1)
    } finally {
      child.kill()
    }
  })

  it('returns null, not an error, for a process that has exited', async () => {
    // Given a child that has exited and been reaped
    const child = spawn('true', [], {stdio: 'ignore'})
    await once(child, 'exit')
    // When reading it
    const ctx = await readProcessContext()
    // Then it is simply absent
    expect(await readProcessInfo(child.pid ?? -1, ctx)).toBeNull()
  })
})

describe('listProcesses over a fixture /proc', () => {
  it('skips processes that vanished between readdir and read', async () => {
    // Given a /proc with one complete process, one whose status is gone and one empty directory
    const proc = await mkdtemp(join(tmpdir(), 'osmoda-proc-'))
    try {
      await writeFile(join(proc, 'stat'), 'cpu  1 0 1 1 0 0 0 0 0 0\nbtime 1764106200\n')
      await writeFile(join(proc, 'uptime'), '1000.00 1500.00\n')
      await mkdir(join(proc, '100'))
      await writeFile(join(proc, '100', 'stat'), '100 (web) S 1 100 100 0 -1 0 0 0 0 0 500 100 0 0 20 0 1 0 2000 0 300 0 0\n')
      await writeFile(join(proc, '100', 'status'), 'Name:\tweb\nUid:\t0\t65534\t0\t0\nVmRSS:\t 300 kB\n')
      await writeFile(join(proc, '100', 'cmdline'), ['web', '--port', '8080', ''].join('\0'))
      await mkdir(join(proc, '200'))
      await writeFile(join(proc, '200', 'stat'), '200 (gone) Z 1 200 200 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 3000 0 0 0 0\n')
      await mkdir(join(proc, '300'))
      // When listing
      const rows = await listProcesses({sort: 'cpu', limit: 10, procRoot: proc})
      // Then only the complete one is there, with start time from btime + 20 s of ticks
      expect(rows).toEqual([
        {
          pid: 100,
          ppid: 1,
          name: 'web',
          user: expect.any(String),
          cpu_usage: expect.any(Number),
          memory: 300 * 1024,
          status: 'sleeping',
          start_time: new Date((1764106200 + 20) * 1000).toISOString(),
          command: 'web --port 8080',
        },
      ])
    } finally {
      await rm(proc, {recursive: true, force: true})
    }
  })
})
