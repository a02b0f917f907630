import {render} from 'ink'
import {PassThrough} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {eventually, fakeTuiSources} from '../../../test/helpers/tui-fakes.js'
import {TuiApp} from './app.js'

describe('TuiApp without a terminal', () => {
  it('renders read-only instead of failing on raw mode', async () => {
    // Given stdin and stdout that are pipes, not a TTY
    const stdin = new PassThrough() as unknown as NodeJS.ReadStream
    const stdout = new PassThrough() as unknown as NodeJS.WriteStream & {columns: number}
    let out = ''
    ;(stdout as unknown as PassThrough).on('data', (d: Buffer) => (out += d.toString()))
    const fake = fakeTuiSources()
    // When the dashboard renders
    const instance = render(<TuiApp sources={fake.sources} pollMs={30} />, {stdin, stdout, debug: true, patchConsole: false, exitOnCtrlC: false})
    // Then it shows the log, the panels and a read-only hint, and typing does nothing
    await eventually(() => expect(out).toContain('no terminal input: read-only view'))
    await eventually(() => expect(out).toContain('watcher.degraded'))
    expect(out).toContain('Approvals (')
    ;(stdin as unknown as PassThrough).write('a')
    await new Promise((r) => setTimeout(r, 50))
    expect(out).not.toContain('y = yes')
    instance.unmount()
    await instance.waitUntilExit()
  })
})

describe('TuiApp on a narrow terminal', () => {
  it('keeps every line within the width', async () => {
    const stdin = new PassThrough() as unknown as NodeJS.ReadStream
    const stdout = new PassThrough() as unknown as NodeJS.WriteStream & {columns: number}
    stdout.columns = 30
    let out = ''
    ;(stdout as unknown as PassThrough).on('data', (d: Buffer) => (out += d.toString()))
    const instance = render(<TuiApp sources={fakeTuiSources().sources} pollMs={30} />, {stdin, stdout, debug: true, patchConsole: false, exitOnCtrlC: false})
    await eventually(() => expect(out).toContain('Watchers (1)'))
    // eslint-disable-next-line no-control-regex
    const plain = out.replace(/\u001B\[[0-9;]*m/g, '')
    const last = plain.slice(plain.lastIndexOf('     1 '))
    for (const line of last.split('\n')) expect(line.length, line).toBeLessThanOrEqual(30)
    instance.unmount()
    await instance.waitUntilExit()
  })
})
