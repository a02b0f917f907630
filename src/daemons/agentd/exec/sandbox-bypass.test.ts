// shell_exec bypass attempts by the agent: every trick to change the host from sandbox mode fails.
import {basename, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {recordingGate, snapshotTree} from '../../../../test/helpers/exec-probes.js'
import {bwrap, call, ledger, service, tmpDir, useExecService, varDir} from '../../../../test/helpers/exec-service-kit.js'

useExecService()

interface Attempt {
  name: string
  input: Record<string, unknown>
}

/** Ways an agent might try to change the host through shell_exec; each genuinely tries to write M or destroy V. */
function attempts(D: string, T: string): Attempt[] {
  const M = join(D, 'marker')
  const V = join(D, 'victim')
  const q = JSON.stringify
  return [
    {name: 'plain touch', input: {command: `touch ${M}`}},
    {name: 'argv touch', input: {argv: ['touch', M]}},
    {name: '; separator', input: {command: `true; touch ${M}`}},
    {name: '&&', input: {command: `true && touch ${M}`}},
    {name: '||', input: {command: `false || touch ${M}`}},
    {name: '| into tee', input: {command: `echo pwned | tee ${M}`}},
    {name: '> redirection', input: {command: `echo pwned > ${M}`}},
    {name: '$() substitution', input: {command: `echo $(touch ${M})`}},
    {name: 'backticks', input: {command: `echo \`touch ${M}\``}},
    {name: 'newline', input: {command: `true\ntouch ${M}`}},
    {name: 'sh -c in command', input: {command: `sh -c 'echo pwned > ${M}'`}},
    {name: 'bash -c as argv', input: {argv: ['bash', '-c', `echo pwned > ${M}`]}},
    {name: 'shell: true redirection', input: {command: `echo pwned > ${M}`, shell: true}},
    {name: 'shell: true rm', input: {command: `rm -f ${V}`, shell: true}},
    {name: 'env touch', input: {command: `env touch ${M}`}},
    {name: 'env -i', input: {argv: ['env', '-i', 'PATH=/usr/bin:/bin', 'touch', M]}},
    {name: 'env rm', input: {command: `env rm -f ${V}`}},
    {name: '/bin/rm', input: {command: `/bin/rm -f ${V}`}},
    {name: '/usr/bin/rm as argv', input: {argv: ['/usr/bin/rm', '-f', V]}},
    {name: 'copy of rm under another name in /tmp', input: {command: `cp /bin/rm /tmp/cleanup && /tmp/cleanup -f ${V}`, shell: true}},
    {name: 'copy of rm into the host dir', input: {command: `cp /bin/rm ${D}/cleanup; ${D}/cleanup -f ${V}`, shell: true}},
    {name: 'symlink to rm', input: {command: `ln -s /bin/rm /tmp/tidy; /tmp/tidy -f ${V}`, shell: true}},
    {name: 'xargs in a pipe', input: {command: `echo ${M} | xargs touch`, shell: true}},
    {name: 'xargs as argv', input: {argv: ['xargs', '-a', '/etc/hostname', '-I{}', 'touch', M]}},
    {name: 'find -exec rm', input: {argv: ['find', D, '-name', 'victim', '-exec', 'rm', '-f', '{}', ';']}},
    {name: 'find -delete', input: {command: `find ${D} -name victim -delete`}},
    {name: 'busybox', input: {command: `busybox touch ${M}`}},
    {name: 'python3 -c', input: {argv: ['python3', '-c', `open(${q(M)}, 'w').write('pwned')`]}},
    {name: 'python3 os.system', input: {argv: ['python3', '-c', `import os; os.system('touch ${M}; rm -f ${V}')`]}},
    {name: 'perl -e', input: {argv: ['perl', '-e', `open(my $f, '>', '${M}') or die "$!"; unlink '${V}'`]}},
    {name: 'node -e', input: {argv: [process.execPath, '-e', `require('fs').writeFileSync(${q(M)}, 'pwned')`]}},
    {name: 'quotes around the program', input: {command: `'tou'"ch" "${M}"`}},
    {name: 'glob without a shell (literal *)', input: {command: `touch ${D}/*`}},
    {name: 'glob with a shell', input: {command: `touch ${D}/*`, shell: true}},
    {name: 'process substitution <()', input: {command: `cat <(touch ${M})`}},
    {name: 'process substitution in bash', input: {argv: ['bash', '-c', `cat <(touch ${M})`]}},
    {name: 'nohup', input: {command: `nohup touch ${M}`}},
    {name: 'timeout', input: {command: `timeout 5 touch ${M}`}},
    {name: 'nice', input: {command: `nice -n 5 touch ${M}`}},
    {name: 'command builtin in a shell', input: {command: `command touch ${M}`, shell: true}},
    {name: 'command as a program', input: {command: `command touch ${M}`}},
    {name: 'setsid', input: {command: `setsid touch ${M}`}},
    {name: 'fullwidth semicolon look-alike', input: {command: `touch ${M}；rm ${V}`}},
    {name: 'fullwidth rm look-alike', input: {command: `ｒｍ -f ${V}`}},
    {name: 'zero-width space in the path', input: {command: `touch ${M}\u200b`}},
    {name: 'very long argv (256 items)', input: {argv: ['touch', M, ...Array.from({length: 254}, (_, i) => `/tmp/f${i}-${'x'.repeat(200)}`)]}},
    {name: 'argv over 256 items', input: {argv: ['touch', M, ...Array.from({length: 300}, (_, i) => `/tmp/f${i}`)]}},
    {name: 'command over 8192 characters', input: {command: `touch ${M} ${'/tmp/x '.repeat(1200)}`}},
    {name: 'NUL byte in command', input: {command: `touch ${M}\0 ${V}`}},
    {name: 'NUL byte in argv', input: {argv: ['touch', `${M}\0x`]}},
    {name: 'NUL byte in cwd', input: {argv: ['touch', 'marker'], cwd: `${D}\0`}},
    {name: 'cwd in the host dir, relative target', input: {argv: ['touch', 'marker'], cwd: D}},
    {name: 'cwd with ..', input: {argv: ['touch', 'marker'], cwd: `${D}/../${basename(D)}`}},
    {name: 'relative cwd', input: {argv: ['touch', 'marker'], cwd: 'var/tmp'}},
    {name: 'cwd through a symlink', input: {argv: ['rm', '-f', 'victim'], cwd: join(D, 'link')}},
    {name: 'cwd is a file', input: {argv: ['touch', 'marker'], cwd: V}},
    {name: 'dd', input: {command: `dd if=/dev/zero of=${M} count=1`}},
    {name: 'tee with empty stdin', input: {command: `tee ${M}`}},
    {name: 'mv', input: {command: `mv ${V} ${M}`}},
    {name: 'sed -i', input: {command: `sed -i s/original/pwned/ ${V}`}},
    {name: 'truncate', input: {command: `truncate -s 0 ${V}`}},
    {name: 'chmod', input: {command: `chmod 000 ${V}`}},
    {name: 'mkdir', input: {command: `mkdir ${M}`}},
    {name: 'remount read-write', input: {command: `mount -o remount,rw / ; mount -o remount,rw ${D} ; touch ${M}`, shell: true}},
    {name: 'unshare a user and mount namespace', input: {argv: ['unshare', '-r', '-m', 'sh', '-c', `mount -o remount,rw ${D}; touch ${M}`]}},
    {name: 'nsenter pid 1', input: {argv: ['nsenter', '-t', '1', '-m', '-p', 'touch', M]}},
    {name: 'host /tmp dir', input: {command: `touch ${T}/marker`}},
    {name: 'host /tmp dir via python3', input: {argv: ['python3', '-c', `open('${T}/marker', 'w').write('x'); import os; os.remove('${T}/victim')`]}},
  ]
}

describe('shell_exec bypass attempts (agent role)', () => {
  // The table needs the paths, which exist only once beforeEach ran: build it from placeholders.
  const table = attempts('@D@', '@T@')

  it('has at least 40 attempts', () => {
    expect(table.length).toBeGreaterThanOrEqual(40)
  })

  const bind = (input: Record<string, unknown>): Record<string, unknown> => JSON.parse(JSON.stringify(input).replaceAll('@D@', varDir).replaceAll('@T@', tmpDir)) as Record<string, unknown>

  it('stops at least 40 of them at the gate in host mode (the rest are refused earlier)', async () => {
    const gate = recordingGate('require')
    const exec = service(gate)
    const codes = []
    for (const {input} of table) codes.push((await call(exec, {...bind(input), mode: 'host'})).code)
    expect(codes.filter((code) => code === 'APPROVAL_REQUIRED').length).toBeGreaterThanOrEqual(40)
    expect(gate.calls.length).toBe(codes.filter((code) => code === 'APPROVAL_REQUIRED').length)
  })

  it.each(table)('host mode: $name needs an approval and changes nothing', async ({input}) => {
    // Given a gate that requires an approval, and the host dirs as they are
    const gate = recordingGate('require')
    const exec = service(gate)
    const before = {...snapshotTree(varDir), ...snapshotTree(tmpDir)}
    // When the agent sends the attempt in host mode
    const outcome = await call(exec, {...bind(input), mode: 'host'})
    // Then it is refused before the gate (bad input, or a program that does not exist) or stopped by the gate; nothing ran
    expect(['VALIDATION_FAILED', 'NOT_FOUND', 'APPROVAL_REQUIRED']).toContain(outcome.code)
    if (outcome.code === 'APPROVAL_REQUIRED') {
      expect(gate.calls).toHaveLength(1)
      expect(gate.calls[0]).toMatchObject({operation: 'shell_exec', method: 'POST', path: '/shell/exec', ctx: {role: 'agent', actor: 'agent:ops'}, body: {mode: 'host'}})
    } else {
      expect(gate.calls).toHaveLength(0)
    }
    expect({...snapshotTree(varDir), ...snapshotTree(tmpDir)}).toEqual(before)
    expect(ledger.query({type: 'exec.*', limit: 10, order: 'asc'})).toEqual([])
  })

  it.skipIf(bwrap.skip).each(table)('sandbox mode: $name cannot change the host', async ({input}) => {
    // Given a gate that would refuse anything (sandbox mode must never ask it), and the host dirs as they are
    const gate = recordingGate('require')
    const exec = service(gate)
    const before = {...snapshotTree(varDir), ...snapshotTree(tmpDir)}
    // When the agent sends the attempt in sandbox mode
    const outcome = await call(exec, {...bind(input), mode: 'sandbox'})
    // Then it is refused as bad input or runs in the sandbox; either way the host is unchanged and the gate was not asked
    expect(['VALIDATION_FAILED', 'OK']).toContain(outcome.code)
    expect(gate.calls).toHaveLength(0)
    expect({...snapshotTree(varDir), ...snapshotTree(tmpDir)}).toEqual(before)
  })
})
