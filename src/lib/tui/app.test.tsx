import {render} from 'ink-testing-library'
import {afterEach, describe, expect, it} from 'vitest'
import {eventually, fakeTuiSources, nextEvent, tuiFixture} from '../../../test/helpers/tui-fakes.js'
import {DaemonUnavailableError, OsmodaError} from '../errors.js'
import {TuiApp} from './app.js'
import {formatUptime} from './format.js'
import type {TuiEvent, TuiHealth} from './sources.js'

const ENTER = '\r'
const DOWN = '\u001B[B'
const FAST = {pollMs: 30, timing: {initialMs: 20, maxMs: 80}}

const apps: {unmount(): void}[] = []
afterEach(() => {
  for (const app of apps.splice(0)) app.unmount()
})

function renderApp(fake: ReturnType<typeof fakeTuiSources>, extra: Partial<Parameters<typeof TuiApp>[0]> = {}) {
  const app = render(<TuiApp sources={fake.sources} {...FAST} {...extra} />)
  apps.push(app)
  const frame = () => app.lastFrame() ?? ''
  const press = async (...keys: string[]) => {
    for (const key of keys) {
      app.stdin.write(key)
      await new Promise((r) => setTimeout(r, 15))
    }
  }
  return {app, frame, press}
}

/** The seqs of the event lines in a frame, in order. */
function seqs(frame: string): number[] {
  return [...frame.matchAll(/^\s*(\d+) \d\d:\d\d:\d\d /gm)].map((m) => Number(m[1]))
}

const recorded = tuiFixture<TuiEvent[]>('ledger-events')

describe('TuiApp event log', () => {
  it('prints the recorded backlog, then each new event once, in seq order', async () => {
    // Given a stack whose ledger holds the recorded events
    const fake = fakeTuiSources()
    const {frame} = renderApp(fake, {backlog: 20})
    // Then the backlog shows with seq, type and actor
    await eventually(() => expect(seqs(frame())).toEqual(recorded.map((e) => e.seq)))
    expect(frame()).toMatch(/approval\.requested\s+agent:ops/)
    expect(frame()).toMatch(/switch\.activated\s+watch/)
    // When new events are appended
    const last = recorded.at(-1)!.seq
    fake.push(nextEvent(last + 1, 'memory.stored', 'operator:root', {category: 'ops'}), nextEvent(last + 2, 'incident.created', 'agent:ops', {name: 'disk full'}))
    // Then they follow, once each, and the follow stream started after the backlog's last seq
    await eventually(() => expect(seqs(frame()).slice(-3)).toEqual([last, last + 1, last + 2]))
    expect(frame()).toContain('"name":"disk full"')
    expect(fake.followCalls[0]).toBe(last)
  })

  it('prints a long burst completely and once, across log batches', async () => {
    // Given a running dashboard
    const fake = fakeTuiSources()
    const {frame} = renderApp(fake)
    const last = recorded.at(-1)!.seq
    await eventually(() => expect(seqs(frame()).at(-1)).toBe(last))
    // When 1200 events arrive in bursts (more than two batches of <Static>)
    for (let i = 1; i <= 1200; i += 100) fake.push(...Array.from({length: 100}, (_, k) => nextEvent(last + i + k, 'tool.called', 'agent:ops')))
    // Then every seq is printed exactly once, in order
    await eventually(() => expect(seqs(frame()).at(-1)).toBe(last + 1200), 10_000)
    const printed = seqs(frame())
    expect(printed).toEqual(Array.from({length: last + 1200}, (_, i) => i + 1))
  })

  it('filters by type and by actor from the keyboard, replaying the last matching events', async () => {
    const fake = fakeTuiSources()
    const {frame, press} = renderApp(fake)
    await eventually(() => expect(frame()).toContain('watcher.degraded'))
    // When the operator types a type filter
    await press('t', ...'approval.*', ENTER)
    // Then a note names the filter and only approval events are shown after it
    await eventually(() => expect(frame()).toContain('… filter type=approval.*: the last 4 matching event(s) again'))
    const afterNote = () => frame().slice(frame().lastIndexOf('… filter type=approval.*'))
    expect(afterNote()).not.toContain('memory.stored')
    const last = recorded.at(-1)!.seq
    fake.push(nextEvent(last + 1, 'tool.called', 'operator:root'), nextEvent(last + 2, 'approval.approved', 'operator:root'))
    await eventually(() => expect(afterNote()).toContain('approval.approved'))
    expect(afterNote()).not.toContain('tool.called')
    expect(frame()).toContain('filter type=approval.* ·')
    // When an actor filter is added and then both are cleared
    await press('@', ...'agent:ops', ENTER)
    await eventually(() => expect(frame()).toContain('filter type=approval.* actor=agent:ops'))
    await press('x')
    await eventually(() => expect(frame()).toContain('… filter cleared'))
    fake.push(nextEvent(last + 3, 'tool.called', 'agent:ops'))
    await eventually(() => expect(seqs(frame()).at(-1)).toBe(last + 3))
  })

  it('holds lines while paused and prints them on resume', async () => {
    const fake = fakeTuiSources()
    const {frame, press} = renderApp(fake)
    const last = recorded.at(-1)!.seq
    await eventually(() => expect(seqs(frame()).at(-1)).toBe(last))
    // When paused and two events arrive
    await press('p')
    fake.push(nextEvent(last + 1, 'tool.called', 'agent:ops'), nextEvent(last + 2, 'wallet.signed', 'keyd'))
    // Then they are held, and the status line counts them
    await eventually(() => expect(frame()).toContain('PAUSED (2 held)'))
    expect(seqs(frame()).at(-1)).toBe(last)
    // When resumed, they print in order
    await press('p')
    await eventually(() => expect(seqs(frame()).slice(-2)).toEqual([last + 1, last + 2]))
    expect(frame()).toContain('… resumed: 2 line(s) held while paused')
    expect(frame()).not.toContain('PAUSED')
  })

  it('shows the gap when agentd goes away and resumes from the last seq without repeats', async () => {
    const fake = fakeTuiSources()
    const {frame} = renderApp(fake)
    const last = recorded.at(-1)!.seq
    await eventually(() => expect(seqs(frame()).at(-1)).toBe(last))
    // When agentd goes away, events are appended meanwhile, and it comes back
    fake.down()
    await eventually(() => expect(frame()).toMatch(/… lost agentd after seq \d+ \(DAEMON_UNAVAILABLE/))
    await eventually(() => expect(frame()).toMatch(/agentd unreachable, retry \d+ in/))
    fake.push(nextEvent(last + 1, 'daemon.stopped', 'agentd'), nextEvent(last + 2, 'daemon.started', 'agentd'))
    fake.up()
    // Then one line tells how many were appended and where it resumed, and they follow once each
    await eventually(() => expect(frame()).toMatch(new RegExp(`… reconnected after \\d+\\.\\d s, 2 event\\(s\\) missed while away, resumed from seq ${last}`)))
    await eventually(() => expect(seqs(frame()).slice(-3)).toEqual([last, last + 1, last + 2]))
    expect(new Set(seqs(frame())).size).toBe(seqs(frame()).length)
    expect(fake.followCalls.at(-1)).toBe(last)
    expect(frame()).toContain('● live')
  })
})

describe('TuiApp header', () => {
  it('shows each daemon up with uptime and RSS, down, or unreachable', async () => {
    // Given recorded health for agentd and watch, keyd gone, routines answering 401
    const health = tuiFixture<Record<string, TuiHealth>>('health')
    const fake = fakeTuiSources({
      health: {
        agentd: health.agentd!,
        keyd: new DaemonUnavailableError('keyd', 'osmoda-keyd is not reachable (ENOENT)'),
        watch: {...health.watch!, status: 'degraded', problems: ['nix-env missing']},
        routines: new OsmodaError('UNAUTHENTICATED', 'unknown token'),
      },
    })
    const {frame} = renderApp(fake)
    // Then (RSS comes from the pid: the fake reads pid × 1 KiB)
    await eventually(() => expect(frame()).toContain(`● agentd up ${formatUptime(health.agentd!.uptime_secs)} ${Math.round((health.agentd!.pid * 1024) / 1048576)}M`))
    expect(frame()).toContain('○ keyd down')
    expect(frame()).toContain(`● watch up degraded ${formatUptime(health.watch!.uptime_secs)}`)
    expect(frame()).toContain('watch: nix-env missing')
    expect(frame()).toContain('○ routines unreachable')
  })
})

describe('TuiApp approvals', () => {
  const pending = tuiFixture<{id: string; summary: string}[]>('approvals-pending')

  it('lists the pending approvals and approves the selected one only after y', async () => {
    const fake = fakeTuiSources()
    const {frame, press} = renderApp(fake)
    await eventually(() => expect(frame()).toContain(`Approvals (${pending.length} pending)`))
    expect(frame()).toContain(pending[0]!.summary)
    // When the operator moves to the second one and presses a
    await press(DOWN, 'a')
    // Then a confirmation names it and nothing is decided yet
    await eventually(() => expect(frame()).toContain(`Approve ${pending[1]!.id} (${pending[1]!.summary}) for ag`))
    expect(fake.decisions).toEqual([])
    // When y
    await press('y')
    // Then it is approved with the operator token's client and the panel says so
    await eventually(() => expect(fake.decisions).toEqual([{id: pending[1]!.id, decision: 'approve', note: 'decided in osmoda tui'}]))
    await eventually(() => expect(frame()).toContain(`${pending[1]!.id} approved by operator:root`))
    await eventually(() => expect(frame()).toContain(`Approvals (${pending.length - 1} pending)`))
  })

  it('denies after d and y; n or esc cancels; enter shows the bound request', async () => {
    const fake = fakeTuiSources()
    const {frame, press} = renderApp(fake)
    await eventually(() => expect(frame()).toContain(`Approvals (${pending.length} pending)`))
    await press('d')
    await eventually(() => expect(frame()).toContain(`Deny ${pending[0]!.id}`))
    await press('n')
    await eventually(() => expect(frame()).not.toContain(`Deny ${pending[0]!.id}`))
    await press('a', '\u001B')
    await eventually(() => expect(frame()).not.toContain('y = yes'))
    expect(fake.decisions).toEqual([])
    // When enter: the exact request it is bound to
    await press(ENTER)
    await eventually(() => expect(frame()).toContain('shell_exec → agentd POST /shell/exec'))
    expect(frame()).toContain('"command": "logrotate -f /etc/logrotate.d/nginx"')
    // When d then y from the details
    await press('d', 'y')
    await eventually(() => expect(fake.decisions).toEqual([{id: pending[0]!.id, decision: 'deny', note: 'decided in osmoda tui'}]))
    await eventually(() => expect(frame()).toContain(`${pending[0]!.id} denied by operator:root`))
  })

  it('shows a failed decision as an error', async () => {
    const fake = fakeTuiSources()
    fake.sources.decide = async () => {
      throw new OsmodaError('CONFLICT', 'approval is already consumed')
    }
    const {frame, press} = renderApp(fake)
    await eventually(() => expect(frame()).toContain('pending)'))
    await press('a', 'y')
    await eventually(() => expect(frame()).toContain(`approve ${pending[0]!.id} failed: CONFLICT: approval is already consumed`))
  })
})

describe('TuiApp watch panel and help', () => {
  it('shows the recorded active switch and watchers, or that watch is not running', async () => {
    const fake = fakeTuiSources()
    const {frame} = renderApp(fake)
    await eventually(() => expect(frame()).toMatch(/probation sw_\w+ “enable gzip in nginx” by operator:root, 0\/3 failing/))
    expect(frame()).toMatch(/degraded\s+api-port · tcp_port 127\.0\.0\.1:1 · 127\.0\.0\.1:1: ECONNREFUSED/)
    const down = new DaemonUnavailableError('watch', 'osmoda-watch is not reachable (ENOENT)')
    const {frame: frame2} = renderApp(fakeTuiSources({switches: down, watchers: down}))
    await eventually(() => expect(frame2()).toContain('switches: watch is not running'))
    expect(frame2()).toContain('watchers: watch is not running')
  })

  it('opens and closes the help with ?, and q ends the app', async () => {
    const fake = fakeTuiSources()
    const {app, frame, press} = renderApp(fake)
    await eventually(() => expect(frame()).toContain('? help'))
    await press('?')
    await eventually(() => expect(frame()).toContain('osmoda tui — keys'))
    expect(frame()).not.toContain('Approvals (')
    await press('?')
    await eventually(() => expect(frame()).toContain('Approvals ('))
    await press('q')
    // After q Ink has unmounted: further input renders nothing more
    await new Promise((r) => setTimeout(r, 100))
    const before = app.frames.length
    await press('?')
    expect(app.frames.length).toBe(before)
  })
})
