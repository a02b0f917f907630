import {describe, expect, it} from 'vitest'
import {journalctlArgv, MAX_MESSAGE_CHARS, parseJournalLine, parseJournalOutput, resolveRelativeTime} from './journal.js'

const NOW = Date.parse('2026-11-25T12:00:00.000Z')

// Shaped like `journalctl -o json` (systemd 252) output lines, metadata trimmed.
const line = (micros: number, fields: Record<string, unknown>) =>
  JSON.stringify({__CURSOR: 's=abc;i=1', __REALTIME_TIMESTAMP: String(micros), __MONOTONIC_TIMESTAMP: '1234', _BOOT_ID: 'b', ...fields})

describe('journalctlArgv', () => {
  it('reads newest first, one line more than asked, as JSON', () => {
    expect(journalctlArgv({lines: 50}, NOW)).toEqual(['journalctl', '--no-pager', '--quiet', '--output=json', '--reverse', '--lines=51'])
  })

  it('maps every filter to a --option=value argument', () => {
    // Given every filter, with relative and absolute times
    const argv = journalctlArgv({unit: 'nginx', priority: 'err', since: '24h', until: '2026-11-25T11:00:00.500Z', lines: 10, grep: 'timeout|refused'}, NOW)
    // Then each is one argument, times as epoch seconds (since floored, until ceiled), the unit normalized
    expect(argv).toEqual([
      'journalctl',
      '--no-pager',
      '--quiet',
      '--output=json',
      '--reverse',
      '--lines=11',
      '--unit=nginx.service',
      '--priority=err',
      `--since=@${(NOW - 86_400_000) / 1000}`,
      `--until=@${Math.ceil(Date.parse('2026-11-25T11:00:00.500Z') / 1000)}`,
      '--grep=timeout|refused',
    ])
  })

  it('keeps a value that starts with a dash inside its option', () => {
    // Given a grep pattern that looks like an option
    const argv = journalctlArgv({lines: 1, grep: '--output=cat'}, NOW)
    // Then it is the value of --grep, never an option of its own
    expect(argv[argv.length - 1]).toBe('--grep=--output=cat')
    expect(argv.filter((a) => a.startsWith('--output'))).toEqual(['--output=json'])
  })

  it.each([
    ['30s', NOW - 30_000],
    ['15m', NOW - 900_000],
    ['2h', NOW - 7_200_000],
    ['7d', NOW - 7 * 86_400_000],
    ['1w', NOW - 604_800_000],
    ['2026-11-24T00:00:00+02:00', Date.parse('2026-11-23T22:00:00Z')],
  ])('resolves %s', (text, want) => {
    expect(resolveRelativeTime(text, NOW)).toBe(want)
  })
})

describe('parseJournalLine', () => {
  it('maps journald fields', () => {
    const entry = parseJournalLine(line(1764072000123456, {PRIORITY: '3', _PID: '812', SYSLOG_IDENTIFIER: 'nginx', _COMM: 'nginx', _SYSTEMD_UNIT: 'nginx.service', MESSAGE: 'upstream timed out'}))
    expect(entry).toEqual({ts: '2025-11-25T12:00:00.123Z', unit: 'nginx.service', priority: 'err', identifier: 'nginx', pid: 812, message: 'upstream timed out'})
  })

  it('decodes a binary MESSAGE (an array of bytes) and falls back to _COMM', () => {
    const entry = parseJournalLine(line(1764072000000000, {MESSAGE: [104, 105, 0xc3, 0xa9], _COMM: 'sshd'}))
    expect(entry?.message).toBe('hié')
    expect(entry?.identifier).toBe('sshd')
    expect(entry?.priority).toBeNull()
    expect(entry?.pid).toBeNull()
    expect(entry?.unit).toBeNull()
  })

  it(`caps a message at ${MAX_MESSAGE_CHARS} characters`, () => {
    const entry = parseJournalLine(line(1764072000000000, {MESSAGE: 'x'.repeat(10_000)}))
    expect(entry?.message).toHaveLength(MAX_MESSAGE_CHARS)
    expect(entry?.message.endsWith('…')).toBe(true)
  })

  it.each([['not json'], ['[1,2]'], ['null'], [JSON.stringify({MESSAGE: 'no time'})], [JSON.stringify({__REALTIME_TIMESTAMP: 'x', MESSAGE: 'bad time'})]])('skips %s', (text) => {
    expect(parseJournalLine(text)).toBeNull()
  })
})

describe('parseJournalOutput', () => {
  const newestFirst = [3, 2, 1].map((n) => line(1764072000000000 + n * 1_000_000, {MESSAGE: `m${n}`})).join('\n')

  it('returns the newest entries oldest first, truncated when journalctl had one more', () => {
    // Given journalctl asked for lines+1 = 3 and answering 3 (newest first)
    const result = parseJournalOutput(`${newestFirst}\n`, 2)
    // Then the two newest come back in time order, and older ones were left out
    expect(result.entries.map((e) => e.message)).toEqual(['m2', 'm3'])
    expect(result.truncated).toBe(true)
  })

  it('is not truncated when everything fit', () => {
    const result = parseJournalOutput(`${newestFirst}\n`, 3)
    expect(result.entries.map((e) => e.message)).toEqual(['m1', 'm2', 'm3'])
    expect(result.truncated).toBe(false)
  })

  it('drops the partial last line of capped output and says so', () => {
    const cut = `${newestFirst.slice(0, newestFirst.length - 10)}`
    const result = parseJournalOutput(cut, 10, true)
    expect(result.entries.map((e) => e.message)).toEqual(['m2', 'm3'])
    expect(result.truncated).toBe(true)
  })

  it('is empty for no output', () => {
    expect(parseJournalOutput('', 5)).toEqual({entries: [], truncated: false})
  })
})
