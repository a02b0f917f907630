import {execFileSync, spawn} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {agentdApi} from '../src/daemons/agentd/api.js'
import {BIN, testEnv, type DaemonProcess, type TestEnv} from './helpers/env.js'
import {requireTool} from './helpers/system-tool.js'

const tmux = requireTool('tmux', 'apt-get install tmux')

let env: TestEnv
let agentd: DaemonProcess
let watch: DaemonProcess

beforeAll(async () => {
  env = await testEnv()
  agentd = await env.start('agentd')
  watch = await env.start('watch')
})

afterAll(async () => {
  await watch?.stop()
  await agentd?.stop()
  await env?.cleanup()
})

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The dashboard's env: the test's osmoda dirs, and no CI variable (Ink only prints the last frame under CI). */
function tuiEnv(): Record<string, string> {
  const vars = {...env.env} as Record<string, string | undefined>
  delete vars.CI
  delete vars.CONTINUOUS_INTEGRATION
  return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined))
}

describe.skipIf(tmux.skip)('osmoda tui in a real terminal (tmux)', () => {
  it('shows new events live, survives an agentd restart, approves with the keyboard and quits with q', async () => {
    // Given osmoda tui running in a tmux pane of its own tmux server
    const socket = `osmoda-tui-${process.pid}-${Date.now()}`
    const conf = join(env.base, 'tmux.conf')
    // remain-on-exit keeps the dead pane so its exit status can be read after q.
    writeFileSync(conf, 'set -g remain-on-exit on\nset -g history-limit 5000\n')
    const run = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', conf, ...args], {encoding: 'utf8', env: tuiEnv()})
    const screen = () => run('capture-pane', '-p', '-J', '-t', 'tui', '-S', '-500')
    const vars = Object.entries(tuiEnv()).filter(([k]) => k.startsWith('OSMODA_') || k === 'PATH' || k === 'HOME')
    const tuiCommand = ['env', '-u', 'CI', '-u', 'CONTINUOUS_INTEGRATION', ...vars.map(([k, v]) => `${k}=${v}`), process.execPath, BIN, 'tui'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    try {
      // The exit status is written by a wrapper: tmux's #{pane_dead_status} stays empty on some hosts.
      const statusFile = join(env.base, 'tui-exit-status')
      const script = join(env.base, 'run-tui.sh')
      writeFileSync(script, `${tuiCommand}\necho $? > '${statusFile}'\n`)
      run('new-session', '-d', '-s', 'tui', '-x', '130', '-y', '50', `sh '${script}'`)
      const panePid = Number(run('display-message', '-p', '-t', 'tui', '#{pane_pid}').trim())
      await until('the dashboard', () => screen().includes('● live') && /● agentd up/.test(screen()) && screen().includes('Approvals (0 pending)'))
      expect(screen()).toMatch(/● watch up/)
      expect(screen()).toMatch(/○ keyd down/)

      // When an action writes to the ledger, then its event appears
      const stored = await env.cli(['memory', 'store', '--summary', 'tmux saw this', '--detail', 'live', '--category', 'ops'])
      expect(stored.exitCode, stored.stderr).toBe(0)
      await until('memory.stored', () => /memory\.stored\s+operator:\w+/.test(screen()))

      // When agentd restarts and something happens meanwhile, then the gap is shown and the log goes on
      await agentd.stopClean()
      await until('the loss note', () => screen().includes('… lost agentd after seq'))
      agentd = await env.start('agentd')
      await until('the reconnection note', () => /… reconnected after \d+\.\d s, \d+ event\(s\) missed while away, resumed from seq \d+/.test(screen()))
      await until('daemon.started after the restart', () => (screen().match(/daemon\.started\s+agentd/g) ?? []).length >= 2)

      // When an agent's host command is held for approval (412) and the operator approves it with a, y
      const agent = env.client('agentd', agentdApi, 'agent', {'x-osmoda-agent-id': 'ops'})
      const marker = join(env.base, 'approved-in-tui')
      const command = `touch ${marker}`
      const held = await agent.shellExec({command, mode: 'host'}).catch((e: {code: string; details: {approval_id: string}}) => e)
      expect(held).toMatchObject({code: 'APPROVAL_REQUIRED'})
      const approval = {id: (held as {details: {approval_id: string}}).details.approval_id}
      await until('the pending approval', () => screen().includes(approval.id) && screen().includes('Approvals (1 pending)'))
      expect(existsSync(marker)).toBe(false)
      run('send-keys', '-t', 'tui', 'a')
      await until('the confirmation', () => screen().includes(`Approve ${approval.id}`))
      run('send-keys', '-t', 'tui', 'y')
      await until('the decision', () => screen().includes(`${approval.id} approved by operator:`))

      // Then the API says it is approved by the operator
      const operator = env.client('agentd', agentdApi)
      expect(await operator.approvalGet({id: approval.id})).toMatchObject({status: 'approved', decided_by: expect.stringMatching(/^operator:/)})
      operator.close()
      await until('approval.approved in the log', () => /approval\.approved\s+operator:/.test(screen()))
      // And the agent's repeated call now runs, once
      expect(await agent.shellExec({command, mode: 'host', approval_id: approval.id})).toMatchObject({exit_code: 0})
      expect(existsSync(marker)).toBe(true)
      agent.close()
      await until('approval.consumed in the log', () => /approval\.consumed/.test(screen()))

      // When the terminal shrinks, the dashboard redraws at the new width and stays live
      run('resize-window', '-t', 'tui', '-x', '90', '-y', '40')
      await env.cli(['memory', 'store', '--summary', 'after resize', '--detail', 'x', '--category', 'ops'])
      await until('an event after the resize', () => (screen().match(/memory\.stored/g) ?? []).length >= 2)
      expect(run('display-message', '-p', '-t', 'tui', '#{pane_dead}').trim()).toBe('0')

      // When q is pressed, then the pane's process ends with status 0
      run('send-keys', '-t', 'tui', 'q')
      await until('the pane to die', () => run('display-message', '-p', '-t', 'tui', '#{pane_dead}').trim() === '1')
      await until('the exit status', () => existsSync(statusFile))
      expect(readFileSync(statusFile, 'utf8').trim()).toBe('0')
      // Exited: no such process, or a zombie tmux has not reaped yet (state Z in /proc/<pid>/stat).
      const gone = () => {
        try {
          process.kill(panePid, 0)
        } catch {
          return true
        }
        try {
          return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${panePid}/stat`, 'utf8'))
        } catch {
          return true
        }
      }
      await until('the pane process to be gone', gone)
    } finally {
      try {
        run('kill-server')
      } catch {
        // already gone
      }
    }
  }, 120_000)
})

describe('osmoda tui without a terminal', () => {
  it('renders from pipes without a raw-mode crash and stops on SIGTERM', async () => {
    // Given stdin and stdout that are pipes
    const child = spawn(process.execPath, [BIN, 'tui'], {env: tuiEnv(), stdio: ['pipe', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    // Then it renders the log and the panels, read-only
    await until('a render', () => out.includes('no terminal input: read-only view') && /daemon\.started\s+watch/.test(out))
    expect(out).toContain('Approvals (')
    expect(err).not.toMatch(/Raw mode/i)
    // When SIGTERM, then it stops with 130
    child.kill('SIGTERM')
    expect(await exited).toBe(130)
  })

  it('refuses --json with a pointer to the NDJSON stream', async () => {
    const res = await env.cli(['tui', '--json'])
    expect(res.exitCode).toBe(2)
    expect(res.stdout + res.stderr).toMatch(/events --follow --json/)
  })
})
