// shell_exec in sandbox mode (bubblewrap) and host mode (gated, process-group kill, capped output).
import {createServer, type Server} from 'node:net'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {groupMembers, processesMatching, recordingGate, snapshotTree} from '../../../../test/helpers/exec-probes.js'
import {probeSandbox} from './sandbox.js'
import {bwrap, call, ledger, OPERATOR, osmoda, service, setProbe, tmpDir, useExecService, varDir} from '../../../../test/helpers/exec-service-kit.js'

useExecService()

describe('shell_exec in sandbox mode', () => {
  it.skipIf(bwrap.skip)('reads the host, refuses writes with a hint, and never asks the gate', async () => {
    // Given a gate that would refuse anything
    const gate = recordingGate('require')
    const exec = service(gate)
    // When the agent reads a host file and then tries to write one
    const read = await call(exec, {command: `cat ${join(varDir, 'victim')}`})
    const write = await call(exec, {argv: ['touch', join(varDir, 'marker')]})
    // Then the read works, the write fails with EROFS and the hint names host mode; nothing was ledgered
    expect(read.result).toMatchObject({mode: 'sandbox', argv: ['cat', join(varDir, 'victim')], exit_code: 0, stdout: 'original', timed_out: false})
    expect(read.result?.hint).toBeUndefined()
    expect(write.result).toMatchObject({exit_code: 1, stderr: expect.stringContaining('Read-only file system'), hint: expect.stringContaining('mode: "host"')})
    expect(gate.calls).toEqual([])
    expect(ledger.size()).toBe(0)
  })

  it.skipIf(bwrap.skip)('cannot see osmoda tokens, keys, state, secrets or daemon sockets, nor /etc/shadow', async () => {
    // Given a daemon socket listening in osmoda's run dir (outside /tmp, so only the masks can hide it)
    const socket = join(osmoda, 'run', 'agentd.sock')
    const server: Server = createServer((c) => c.end('hello'))
    await new Promise<void>((resolve) => server.listen(socket, resolve))
    try {
      const exec = service()
      // When the sandbox lists and reads osmoda's dirs, /etc/shadow, and connects to the socket
      const list = await call(exec, {argv: ['find', join(osmoda, 'state'), join(osmoda, 'run'), join(osmoda, 'config', 'secrets'), '-mindepth', '1']})
      const token = await call(exec, {argv: ['cat', join(osmoda, 'state/tokens/operator'), join(osmoda, 'state/identity/ed25519.key')]})
      const shadow = await call(exec, {argv: ['sh', '-c', 'stat -c %F /etc/shadow; cat /etc/shadow']})
      const connect = await call(exec, {argv: ['python3', '-c', `import socket; s = socket.socket(socket.AF_UNIX); s.connect(${JSON.stringify(socket)}); print(s.recv(10))`]})
      // Then the dirs are empty, the files absent, /etc/shadow empty and the socket unreachable
      expect(list.result).toMatchObject({exit_code: 0, stdout: '', stderr: ''})
      expect(token.result).toMatchObject({exit_code: 1, stdout: ''})
      expect(token.result?.stderr).toContain('No such file or directory')
      // /etc/shadow is /dev/null on a nodev mount: neither its content nor the device can be read
      expect(shadow.result).toMatchObject({stdout: 'character special file\n'})
      expect(shadow.result?.exit_code).not.toBe(0)
      expect(connect.result?.exit_code).not.toBe(0)
      expect(connect.result?.stdout).not.toContain('hello')
    } finally {
      server.close()
    }
  })

  it.skipIf(bwrap.skip)('cannot write kernel settings through /proc/sys or /proc/sysrq-trigger', async () => {
    // When the sandboxed root writes a sysctl's current value back (harmless even if it got through) and pokes sysrq
    const exec = service()
    const sysctl = await call(exec, {command: 'v=$(cat /proc/sys/vm/overcommit_memory) && echo "$v" > /proc/sys/vm/overcommit_memory', shell: true})
    // ('h' only prints sysrq help; containers have no sysrq-trigger at all, which fails the same way)
    const sysrq = await call(exec, {command: 'echo h > /proc/sysrq-trigger', shell: true})
    // Then the writes fail: /proc/sys is read-only inside the sandbox
    expect(sysctl.result).toMatchObject({exit_code: 2, stderr: expect.stringContaining('Read-only file system')})
    expect(sysrq.result?.exit_code).toBe(2)
  })

  it.skipIf(bwrap.skip)('runs with no network and the minimal environment', async () => {
    const exec = service()
    const env = await call(exec, {argv: ['env']})
    const net = await call(exec, {argv: ['cat', '/proc/net/dev']})
    // bwrap adds PWD for its --chdir
    expect(Object.keys(Object.fromEntries((env.result?.stdout ?? '').trim().split('\n').map((l) => l.split('=')))).sort()).toEqual(['HOME', 'LANG', 'PATH', 'PWD', 'TZ'])
    expect(env.result?.stdout).toContain('HOME=/tmp\n')
    // Only the loopback device of the sandbox's own network namespace
    expect(net.result?.stdout.split('\n').filter((l) => l.includes(':')).map((l) => l.split(':')[0]?.trim())).toEqual(['lo'])
  })

  it.skipIf(bwrap.skip)('kills sleep 3600 at a 1 s deadline and leaves nothing running', async () => {
    const exec = service()
    const started = Date.now()
    const outcome = await call(exec, {argv: ['sleep', '3599.125'], timeout_secs: 1})
    expect(Date.now() - started).toBeLessThan(3000)
    expect(outcome.result).toMatchObject({timed_out: true, exit_code: null})
    expect(processesMatching('3599.125')).toEqual([])
  })

  it.skipIf(bwrap.skip)('reaps grandchildren that hold the pipes open', async () => {
    const exec = service()
    const started = Date.now()
    const outcome = await call(exec, {command: 'sleep 3598.125 & (trap "" TERM; sleep 3598.25) & echo started', shell: true, timeout_secs: 20})
    expect(outcome.result).toMatchObject({exit_code: 0, stdout: 'started\n', timed_out: false})
    expect(Date.now() - started).toBeLessThan(5000)
    expect(processesMatching('3598.125')).toEqual([])
    expect(processesMatching('3598.25')).toEqual([])
  })

  it('answers 503 SANDBOX_UNAVAILABLE without bubblewrap, or runs unsandboxed with a warning when exec.requireSandbox is false', async () => {
    // Given a host where the sandbox probe fails
    setProbe(Promise.resolve({available: false, bwrap: null, reason: 'bubblewrap (bwrap) is not installed'}))
    // When a sandbox-mode command is sent with the default config / Then 503 and nothing ran
    const refused = await call(service(), {argv: ['touch', join(varDir, 'marker')]})
    expect(refused).toMatchObject({code: 'SANDBOX_UNAVAILABLE'})
    expect(refused.error?.httpStatus).toBe(503)
    expect(snapshotTree(varDir)[join(varDir, 'marker')]).toBeUndefined()
    // When exec.requireSandbox is false (dev only) / Then it runs unsandboxed and says so
    const dev = await call(service(recordingGate('require'), {requireSandbox: false}), {argv: ['echo', 'hi']})
    expect(dev.result).toMatchObject({mode: 'sandbox', exit_code: 0, stdout: 'hi\n', warning: expect.stringContaining('WITHOUT a sandbox')})
    setProbe(probeSandbox())
  })

  it('refuses a cwd that only exists on the host side of /tmp', async () => {
    const outcome = await call(service(), {argv: ['ls'], cwd: tmpDir})
    expect(outcome).toMatchObject({code: 'VALIDATION_FAILED'})
    expect(outcome.error?.hint).toContain('/tmp')
  })
})

describe('shell_exec in host mode', () => {
  it('runs an operator command on the host, ungated by rules, and ledgers exec.completed', async () => {
    // Given the operator (the gate lets operators through) and a marker path on the host
    const gate = recordingGate('require')
    const marker = join(varDir, 'marker')
    // When the operator runs touch in host mode
    const outcome = await call(service(gate), {argv: ['touch', marker], mode: 'host', cwd: varDir}, OPERATOR)
    // Then the file exists (so the bypass table's marker check can fail), and the run is ledgered
    expect(outcome.result).toMatchObject({mode: 'host', argv: ['touch', marker], exit_code: 0, timed_out: false})
    expect(snapshotTree(varDir)[marker]).toBeDefined()
    expect(gate.calls).toHaveLength(1)
    const [event] = ledger.query({type: 'exec.completed', limit: 1, order: 'asc'})
    expect(event).toMatchObject({actor: 'operator:root', payload: {argv: ['touch', marker], cwd: varDir, exit_code: 0, timed_out: false, approval_id: null}})
    expect(event?.payload.duration_ms).toEqual(expect.any(Number))
  })

  it('runs an approved agent command with operators, hands the gate the body with defaults and records the approval', async () => {
    // Given a gate that accepts the presented approval
    const gate = recordingGate('allow')
    const marker = join(varDir, 'marker')
    // When the agent repeats its request with the approval id
    const outcome = await call(service(gate), {command: `sh -c 'echo approved > ${marker}'`, mode: 'host', approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'})
    // Then the command ran, the gate saw the body with defaults and without approval_id, and the ledger names the approval
    expect(outcome.result).toMatchObject({exit_code: 0, argv: ['sh', '-c', `echo approved > ${marker}`]})
    expect(snapshotTree(varDir)[marker]).toMatch(/ approved\n$/)
    expect(gate.calls[0]).toMatchObject({
      operation: 'shell_exec',
      approvalId: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T',
      summary: `on the host in /tmp: sh -c 'echo approved > ${marker}'`,
      body: {command: `sh -c 'echo approved > ${marker}'`, shell: false, mode: 'host', cwd: '/tmp', timeout_secs: 30, max_output_bytes: 65_536},
    })
    expect(gate.calls[0]?.body).not.toHaveProperty('approval_id')
    expect(ledger.query({type: 'exec.completed', limit: 1, order: 'asc'})[0]).toMatchObject({actor: 'agent:ops', payload: {approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'}})
  })

  it('refuses a program that does not exist before asking the gate, so no approval is spent on it', async () => {
    const gate = recordingGate('require')
    const outcome = await call(service(gate), {command: 'no-such-program-osmoda --help', mode: 'host'})
    expect(outcome).toMatchObject({code: 'NOT_FOUND'})
    expect(outcome.error?.httpStatus).toBe(404)
    expect(gate.calls).toEqual([])
  })

  it('passes only the minimal environment (SPEC §1.12)', async () => {
    process.env.OSMODA_TOKEN = 'osm_op_must_not_leak'
    process.env.SUDO_ASKPASS = '/bin/false'
    try {
      const outcome = await call(service(), {argv: ['env'], mode: 'host'}, OPERATOR)
      const keys = (outcome.result?.stdout ?? '').trim().split('\n').map((l) => l.split('=')[0])
      expect(keys.sort()).toEqual(['HOME', 'LANG', 'PATH', 'TZ'])
    } finally {
      delete process.env.OSMODA_TOKEN
      delete process.env.SUDO_ASKPASS
    }
  })

  it('kills sleep 3600 at a 1 s deadline and leaves no process of its group', async () => {
    const started = Date.now()
    const outcome = await call(service(), {command: 'echo $$; exec sleep 3597.125', shell: true, mode: 'host', timeout_secs: 1}, OPERATOR)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(outcome.result).toMatchObject({timed_out: true, exit_code: null, signal: 'SIGTERM'})
    const pgid = Number(outcome.result?.stdout.trim())
    expect(pgid).toBeGreaterThan(1)
    expect(groupMembers(pgid)).toEqual([])
    expect(processesMatching('3597.125')).toEqual([])
    expect(ledger.query({type: 'exec.completed', limit: 1, order: 'asc'})[0]?.payload).toMatchObject({timed_out: true, exit_code: null})
  })

  it('fully reaps a child whose grandchildren hold the pipes open, even one that ignores SIGTERM', async () => {
    const started = Date.now()
    const outcome = await call(service(), {command: 'echo $$; sleep 3596.125 & (trap "" TERM; sleep 3596.25) & echo started', shell: true, mode: 'host', timeout_secs: 30}, OPERATOR)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(outcome.result).toMatchObject({exit_code: 0, timed_out: false})
    const [pgid, said] = (outcome.result?.stdout ?? '').trim().split('\n')
    expect(said).toBe('started')
    expect(groupMembers(Number(pgid))).toEqual([])
    expect(processesMatching('3596.')).toEqual([])
  })

  it('caps each stream at max_output_bytes and flags the truncation', async () => {
    const outcome = await call(service(), {command: 'head -c 5000 /dev/zero | tr "\\0" a; head -c 10 /dev/zero | tr "\\0" b >&2', shell: true, mode: 'host', max_output_bytes: 1024}, OPERATOR)
    expect(outcome.result).toMatchObject({stdout: 'a'.repeat(1024), stdout_truncated: true, stderr: 'b'.repeat(10), stderr_truncated: false})
  })

  it('bounds deadlines: 120 s in sandbox mode, 1800 s in host mode and only with an approval for the agent', async () => {
    // Sandbox mode over 120 s: 400 before anything runs
    expect((await call(service(), {argv: ['true'], timeout_secs: 121})).code).toBe('VALIDATION_FAILED')
    // Host mode over 1800: the schema refuses it
    expect((await call(service(), {argv: ['true'], mode: 'host', timeout_secs: 1801}, OPERATOR)).code).toBe('VALIDATION_FAILED')
    // Host mode 600 s by the agent: the gate is asked (an approval will carry the long deadline)
    const gate = recordingGate('require')
    expect((await call(service(gate), {argv: ['true'], mode: 'host', timeout_secs: 600})).code).toBe('APPROVAL_REQUIRED')
    expect(gate.calls[0]?.body).toMatchObject({timeout_secs: 600})
    // …and if a rule lets host commands through without an approval, the long deadline is refused
    const lenient = {check: () => ({decision: 'allow' as const, approval_id: null, reason: 'rule_never' as const})}
    expect((await call(service(lenient), {argv: ['true'], mode: 'host', timeout_secs: 600})).code).toBe('VALIDATION_FAILED')
    // An approval_id makes no sense in sandbox mode
    expect((await call(service(), {argv: ['true'], approval_id: 'apr_01JDQZ9V7C4Y3M2N1P0Q9R8S7T'})).code).toBe('VALIDATION_FAILED')
    expect(ledger.size()).toBe(0)
  })

  it('rate limits the agent per agent id before the gate, never the operator', async () => {
    // Given a limit of 2 calls a minute
    const gate = recordingGate('require')
    const exec = service(gate, {rateLimit: {calls: 2, windowSecs: 60}})
    // When the agent makes three host-mode calls
    const codes = [await call(exec, {argv: ['true'], mode: 'host'}), await call(exec, {argv: ['true'], mode: 'host'}), await call(exec, {argv: ['true'], mode: 'host'})]
    // Then the third is 429 with retry_after_secs and never reached the gate
    expect(codes.map((c) => c.code)).toEqual(['APPROVAL_REQUIRED', 'APPROVAL_REQUIRED', 'RATE_LIMITED'])
    expect(codes[2]?.error?.details).toEqual({retry_after_secs: expect.any(Number)})
    expect(gate.calls).toHaveLength(2)
    // And the operator is not limited
    for (let i = 0; i < 3; i++) expect((await call(exec, {argv: ['true'], mode: 'host'}, OPERATOR)).code).toBe('OK')
  })
})
