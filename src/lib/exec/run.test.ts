import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../errors.js'
import {minimalEnv, runProcess} from './run.js'

/** True when the pid is gone or only a zombie waiting for init to reap it. */
async function isDead(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null)
  if (stat === null) return true
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
}

describe('runProcess', () => {
  it('hands onSpawn the pid that leads the child\'s own process group', async () => {
    const pids: number[] = []
    const result = await runProcess(['/bin/sh', '-c', 'echo $$; ps -o pgid= -p $$'], {timeoutMs: 5000, onSpawn: (pid) => pids.push(pid)})
    const [pid, pgid] = result.stdout.trim().split(/\s+/).map(Number)
    expect(pids).toEqual([pid])
    expect(pgid).toBe(pid)
  })

  it('captures stdout, stderr and the exit code', async () => {
    // Given a command writing to both streams and exiting 3
    // When it runs
    const result = await runProcess(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], {timeoutMs: 10_000})
    // Then everything is reported
    expect(result).toMatchObject({argv: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false, aborted: false})
    expect(result.stdoutTruncated).toBe(false)
    expect(result.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('resolves a bare name on PATH and runs argv without a shell', async () => {
    // Given shell metacharacters in an argument
    // When echo runs with it
    const result = await runProcess(['echo', '$HOME; `id`'], {timeoutMs: 10_000})
    // Then they reach the child verbatim
    expect(result).toMatchObject({exitCode: 0, stdout: '$HOME; `id`\n'})
  })

  it('reports the signal that ended the child', async () => {
    // Given a child that kills itself
    // When it runs
    const result = await runProcess(['/bin/sh', '-c', 'kill -USR1 $$'], {timeoutMs: 10_000})
    // Then the signal is reported and there is no exit code
    expect(result).toMatchObject({exitCode: null, signal: 'SIGUSR1', timedOut: false})
  })

  it('caps each stream and flags truncation while draining the rest', async () => {
    // Given a child that writes 1 MB to stdout and 1 MB to stderr
    const script = 'head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2; echo done >&2; exit 0'
    // When it runs with a 1000-byte cap
    const result = await runProcess(['/bin/sh', '-c', script], {timeoutMs: 20_000, maxOutputBytes: 1000})
    // Then both are cut at the cap and the child still ran to its end (it was never blocked)
    expect(result).toMatchObject({exitCode: 0, stdoutTruncated: true, stderrTruncated: true, timedOut: false})
    expect(result.stdout.length).toBe(1000)
    expect(result.stderr.length).toBe(1000)
  })

  it('does not flag output exactly at the cap', async () => {
    const result = await runProcess(['head', '-c', '1000', '/dev/zero'], {timeoutMs: 10_000, maxOutputBytes: 1000})
    expect(result).toMatchObject({stdoutTruncated: false})
    expect(result.stdout.length).toBe(1000)
  })

  it('does not end truncated text in half a UTF-8 character', async () => {
    // Given 'é' (2 bytes) repeated, cut at an odd byte count
    const result = await runProcess(['/bin/sh', '-c', 'for i in 1 2 3 4 5; do printf "éééé"; done'], {timeoutMs: 10_000, maxOutputBytes: 5})
    // Then the partial character is dropped
    expect(result.stdout).toBe('éé')
    expect(result.stdoutTruncated).toBe(true)
  })

  it('kills the whole process group on timeout, grandchildren included', async () => {
    // Given a shell that starts a grandchild and waits for it
    const started = Date.now()
    // When the deadline passes
    const result = await runProcess(['/bin/sh', '-c', 'sleep 100 & echo $!; wait'], {timeoutMs: 500})
    // Then the result says so, soon, and the grandchild is gone too
    expect(result).toMatchObject({timedOut: true, aborted: false, exitCode: null, signal: 'SIGTERM'})
    expect(Date.now() - started).toBeLessThan(5000)
    const grandchild = Number(result.stdout.trim())
    expect(grandchild).toBeGreaterThan(1)
    await expect.poll(() => isDead(grandchild), {timeout: 3000}).toBe(true)
  })

  it('follows SIGTERM with SIGKILL after 2 s for a group that ignores SIGTERM', async () => {
    // Given a shell (and its sleep) ignoring SIGTERM
    const started = Date.now()
    const result = await runProcess(['/bin/sh', '-c', 'trap "" TERM; sleep 100 & echo $!; wait'], {timeoutMs: 300})
    // Then SIGKILL ends it after the grace period
    expect(result).toMatchObject({timedOut: true, signal: 'SIGKILL'})
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000)
    await expect.poll(() => isDead(Number(result.stdout.trim())), {timeout: 3000}).toBe(true)
  })

  it('settles after the deadline even when a process that left the group holds the pipe', async () => {
    // Given a grandchild in its own session (setsid) that keeps stdout open
    const result = await runProcess(['/bin/sh', '-c', 'setsid sleep 100 & echo $!; wait'], {timeoutMs: 300})
    const escaped = Number(result.stdout.trim())
    try {
      // Then the result still arrives, after the SIGTERM/SIGKILL grace, with what was read
      expect(result).toMatchObject({timedOut: true})
      expect(escaped).toBeGreaterThan(1)
    } finally {
      if (escaped > 1) process.kill(escaped, 'SIGKILL')
    }
  })

  it('stops a background process the leader left behind when the leader exits', async () => {
    // Given a leader that starts a detached-from-stdout sleep and exits at once
    const result = await runProcess(['/bin/sh', '-c', 'sleep 100 >/dev/null 2>&1 & echo $!'], {timeoutMs: 10_000})
    // Then the command completes normally and the straggler is stopped
    expect(result).toMatchObject({exitCode: 0, timedOut: false})
    await expect.poll(() => isDead(Number(result.stdout.trim())), {timeout: 3000}).toBe(true)
  })

  it('kills the group when the signal aborts', async () => {
    // Given a long command and an abort after 200 ms
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 200)
    // When it runs
    const result = await runProcess(['sleep', '100'], {timeoutMs: 60_000, signal: controller.signal})
    // Then it is reported as aborted, not timed out
    expect(result).toMatchObject({aborted: true, timedOut: false, signal: 'SIGTERM'})
  })

  it('does not start anything when the signal is already aborted', async () => {
    const result = await runProcess(['sleep', '100'], {timeoutMs: 60_000, signal: AbortSignal.abort()})
    expect(result).toMatchObject({aborted: true, exitCode: null, signal: null})
  })

  it('writes input to stdin and closes it', async () => {
    // Given input text
    // When cat reads stdin to EOF
    const result = await runProcess(['cat'], {timeoutMs: 10_000, input: 'hello\nworld\n'})
    // Then it echoes the input and exits (stdin was closed)
    expect(result).toMatchObject({exitCode: 0, stdout: 'hello\nworld\n'})
  })

  it('hands extra inputs over on fds 3, 4, … and nowhere else', async () => {
    // Given two secrets for the child's fds 3 and 4
    const result = await runProcess(['/bin/sh', '-c', 'cat <&3; echo; cat <&4; echo; env'], {timeoutMs: 10_000, extraInputs: ['first-secret', Buffer.from('second-secret')]})
    // Then the child reads each on its fd, and neither is in its environment or argv
    const [first, second, ...env] = result.stdout.split('\n')
    expect([first, second]).toEqual(['first-secret', 'second-secret'])
    expect(env.join('\n')).not.toContain('secret')
    expect(result.argv.join(' ')).not.toContain('secret')
  })

  it('gives the child an empty stdin without input', async () => {
    const result = await runProcess(['cat'], {timeoutMs: 10_000})
    expect(result).toMatchObject({exitCode: 0, stdout: ''})
  })

  it('passes a minimal environment plus explicit additions, never the parent env or SUDO_ASKPASS', async () => {
    // Given variables in the parent environment
    process.env.OSMODA_TEST_LEAK = 'leaked'
    process.env.SUDO_ASKPASS = '/bin/parent-askpass'
    try {
      // When env runs with one addition and an attempted SUDO_ASKPASS
      const result = await runProcess(['env'], {timeoutMs: 10_000, env: {EXTRA: 'yes', SUDO_ASKPASS: '/bin/evil'}})
      // Then the child sees exactly the minimal set
      const names = result.stdout.trim().split('\n').map((line) => line.slice(0, line.indexOf('='))).sort()
      expect(names).toEqual(['EXTRA', 'HOME', 'LANG', 'PATH', 'TZ'])
      expect(result.stdout).toContain('LANG=C.UTF-8\n')
      expect(result.stdout).toContain('TZ=UTC\n')
    } finally {
      delete process.env.OSMODA_TEST_LEAK
      delete process.env.SUDO_ASKPASS
    }
  })

  it('runs in the given cwd', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'osmoda-exec-'))
    try {
      const result = await runProcess(['pwd'], {timeoutMs: 10_000, cwd: dir})
      expect(result.stdout.trim()).toBe(dir)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it.each([
    {name: 'a bare name not on PATH', argv: ['osmoda-no-such-binary-xyz'], wantCode: 'NOT_FOUND'},
    {name: 'an absolute path that does not exist', argv: ['/nonexistent/bin/tool'], wantCode: 'NOT_FOUND'},
  ])('throws $wantCode for $name', async ({argv, wantCode}) => {
    const error = await runProcess(argv, {timeoutMs: 10_000}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OsmodaError)
    expect(error).toMatchObject({code: wantCode, details: {binary: argv[0]}})
    expect((error as Error).message).toContain(argv[0])
  })

  it('throws NOT_FOUND for a missing cwd', async () => {
    const error = await runProcess(['true'], {timeoutMs: 10_000, cwd: '/nonexistent-dir-xyz'}).catch((e: unknown) => e)
    expect(error).toMatchObject({code: 'NOT_FOUND'})
  })

  it('refuses to run a file that is not executable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'osmoda-exec-'))
    try {
      const file = join(dir, 'script.sh')
      await writeFile(file, '#!/bin/sh\necho hi\n', {mode: 0o644})
      const error = await runProcess([file], {timeoutMs: 10_000}).catch((e: unknown) => e)
      // root may read anything, but execve still needs an execute bit
      expect(error).toMatchObject({code: 'NOT_FOUND'})
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  it('rejects an argument with a NUL byte as a usage error', async () => {
    await expect(runProcess(['echo', 'a\0b'], {timeoutMs: 10_000})).rejects.toMatchObject({code: 'VALIDATION_FAILED'})
  })

  it.each([
    {name: 'an empty argv', argv: [] as string[], timeoutMs: 1000},
    {name: 'a zero deadline', argv: ['true'], timeoutMs: 0},
  ])('rejects $name as a bug', async ({argv, timeoutMs}) => {
    await expect(runProcess(argv, {timeoutMs})).rejects.toMatchObject({code: 'INTERNAL'})
  })
})

describe('minimalEnv', () => {
  it('keeps additions but always drops SUDO_ASKPASS', () => {
    const env = minimalEnv({FOO: 'bar', SUDO_ASKPASS: 'x'})
    expect(env).toMatchObject({FOO: 'bar', LANG: 'C.UTF-8', TZ: 'UTC'})
    expect(env).not.toHaveProperty('SUDO_ASKPASS')
  })
})
