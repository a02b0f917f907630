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
