import {describe, expect, it} from 'vitest'
import {hiddenBySandbox, sandboxArgv, SANDBOX_BASE_FLAGS} from './sandbox.js'

describe('sandboxArgv', () => {
  it('puts the SPEC flags first, then /proc/sys read-only, the /run re-binds, the masks, the cwd and the argv', () => {
    // When the argv of a sandboxed command is built
    const argv = sandboxArgv('/usr/bin/bwrap', ['cat', '/etc/hostname'], {
      cwd: '/srv',
      rebinds: ['/run/current-system'],
      masks: [
        {path: '/root', kind: 'dir'},
        {path: '/etc/shadow', kind: 'file'},
      ],
    })
    // Then it reads exactly as SPEC §2.1 lists it, masks after the re-binds so none can be uncovered
    expect(argv).toEqual([
      '/usr/bin/bwrap',
      ...['--die-with-parent', '--new-session', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--unshare-cgroup-try', '--cap-drop', 'ALL'],
      ...['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--tmpfs', '/run'],
      ...['--ro-bind-try', '/proc/sys', '/proc/sys', '--ro-bind-try', '/proc/sysrq-trigger', '/proc/sysrq-trigger'],
      ...['--ro-bind', '/run/current-system', '/run/current-system'],
      ...['--tmpfs', '/root', '--remount-ro', '/root'],
      ...['--ro-bind', '/dev/null', '/etc/shadow'],
      ...['--chdir', '/srv', '--', 'cat', '/etc/hostname'],
    ])
    expect(argv.slice(1, 1 + SANDBOX_BASE_FLAGS.length)).toEqual([...SANDBOX_BASE_FLAGS])
  })
})

describe('hiddenBySandbox', () => {
  it.each([
    {path: '/tmp', want: true},
    {path: '/tmp/osmoda-1000/agentd.sock', want: true},
    {path: '/run/osmoda', want: true},
    {path: '/run/current-system/sw', want: false},
    {path: '/run/log/journal', want: false},
    {path: '/runner', want: false},
    {path: '/var/lib/osmoda', want: false},
  ])('$path → $want', ({path, want}) => {
    expect(hiddenBySandbox(path)).toBe(want)
  })
})
