import {mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {buildSandboxArgv, EGRESS_SOCKET_INSIDE, type SandboxPlan} from './bwrap-args.js'
import {findSystemEntries, resolveSandboxUser, systemdIsPid1} from './host-env.js'

const SYSTEM = [
  {path: '/nix/store', symlink: null},
  {path: '/usr', symlink: null},
  {path: '/bin', symlink: null},
  {path: '/lib', symlink: 'usr/lib'},
  {path: '/etc/ssl', symlink: null},
]
const plan = (over: Partial<SandboxPlan> = {}): SandboxPlan => ({user: null, scope: null, system: SYSTEM, binds: [], helper: null, cwd: '/tmp', argv: ['id', '-u'], ...over})

/** The values that follow each occurrence of a flag, e.g. pairs of `--ro-bind SRC DEST`. */
function flagArgs(argv: string[], flag: string, count: number): string[][] {
  const found: string[][] = []
  argv.forEach((a, i) => {
    if (a === flag) found.push(argv.slice(i + 1, i + 1 + count))
  })
  return found
}

describe('buildSandboxArgv', () => {
  it('tier 2 as the daemon user: namespaces, a clean env, read-only system dirs, private /tmp, then the argv', () => {
    // When the plan has no user, no limits and no grants
    const argv = buildSandboxArgv(plan())
    // Then bwrap comes first with every isolation flag of SPEC §2.1
    expect(argv.slice(0, 8)).toEqual(['bwrap', '--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--clearenv', '--setenv'])
    expect(flagArgs(argv, '--setenv', 2)).toEqual([
      ['PATH', '/run/current-system/sw/bin:/usr/bin:/bin'],
      ['HOME', '/tmp'],
      ['LANG', 'C.UTF-8'],
    ])
    // And system directories are read-only, symlinks recreated, nothing is bound writable
    expect(flagArgs(argv, '--ro-bind', 2)).toEqual([
      ['/nix/store', '/nix/store'],
      ['/usr', '/usr'],
      ['/bin', '/bin'],
      ['/etc/ssl', '/etc/ssl'],
    ])
    expect(flagArgs(argv, '--symlink', 2)).toEqual([['usr/lib', '/lib']])
    expect(argv).not.toContain('--bind')
    expect(argv).not.toContain('--share-net')
    // And /proc, /dev and /tmp are fresh, cwd is set, and the command follows `--`
    expect(argv.join(' ')).toContain('--proc /proc --dev /dev --tmpfs /tmp')
    expect(argv.slice(-7)).toEqual(['--remount-ro', '/', '--chdir', '/tmp', '--', 'id', '-u'])
  })

  it('drops to the sandbox user with setpriv (never spawn({uid})), and clears groups for an unnamed uid', () => {
    expect(buildSandboxArgv(plan({user: {uid: 990, gid: 985, name: 'osmoda-sandbox'}})).slice(0, 6)).toEqual([
      'setpriv',
      '--reuid=990',
      '--regid=985',
      '--init-groups',
      '--',
      'bwrap',
    ])
    expect(buildSandboxArgv(plan({user: {uid: 65534, gid: 65534, name: null}})).slice(0, 5)).toEqual(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'])
  })

  it('wraps everything in a systemd scope with MemoryMax and TasksMax when systemd holds the limits', () => {
    const argv = buildSandboxArgv(plan({user: {uid: 990, gid: 985, name: 'osmoda-sandbox'}, scope: {memoryMax: '512M', pidsMax: 256}}))
    expect(argv.slice(0, 10)).toEqual(['systemd-run', '--scope', '--quiet', '--collect', '-p', 'MemoryMax=512M', '-p', 'TasksMax=256', '--', 'setpriv'])
  })

  it('tier 1: grants are mounted at their own path, read-only or writable, after /tmp so they can live under it', () => {
    const argv = buildSandboxArgv(
      plan({
        binds: [
          {path: '/srv/data', source: '/srv/data', writable: false},
          {path: '/tmp/osmoda-sandbox/out', source: '/tmp/osmoda-sandbox/out', writable: true},
          {path: '/srv/link', source: '/srv/real', writable: false},
        ],
        cwd: '/tmp/osmoda-sandbox/out',
      }),
    )
    expect(flagArgs(argv, '--bind', 2)).toEqual([['/tmp/osmoda-sandbox/out', '/tmp/osmoda-sandbox/out']])
    expect(flagArgs(argv, '--ro-bind', 2)).toContainEqual(['/srv/data', '/srv/data'])
    expect(flagArgs(argv, '--ro-bind', 2)).toContainEqual(['/srv/real', '/srv/link'])
    expect(argv.indexOf('--bind')).toBeGreaterThan(argv.indexOf('--tmpfs'))
    expect(flagArgs(argv, '--chdir', 1)).toEqual([['/tmp/osmoda-sandbox/out']])
  })

  it('tier 1 with network: binds the egress socket, Node and the package read-only, and runs the command under the helper', () => {
    // Given a Node binary outside the system paths (as with nvm) and the package in /opt
    const helper = {node: '/opt/node/bin/node', packageDir: '/opt/osmoda', egressSocket: '/run/osmoda/egress-proxy.sock'}
    const argv = buildSandboxArgv(plan({helper, argv: ['curl', 'https://example.com']}))
    // Then they are bound read-only, the socket appears at the fixed inside path, and the helper wraps the command
    expect(flagArgs(argv, '--ro-bind', 2)).toEqual(expect.arrayContaining([['/opt/node/bin/node', '/opt/node/bin/node'], ['/opt/osmoda', '/opt/osmoda'], ['/run/osmoda/egress-proxy.sock', EGRESS_SOCKET_INSIDE]]))
    const dash = argv.indexOf('--', argv.indexOf('--chdir'))
    expect(argv.slice(dash + 1)).toEqual(['/opt/node/bin/node', '/opt/osmoda/bin/sandbox-init.js', '--egress', EGRESS_SOCKET_INSIDE, '--', 'curl', 'https://example.com'])
    // And the network stays unshared: the helper is the only way out
    expect(argv).toContain('--unshare-all')
    expect(argv).not.toContain('--share-net')
  })

  it('does not bind Node or the package twice when they already lie under a system path', () => {
    const argv = buildSandboxArgv(plan({helper: {node: '/usr/bin/node', packageDir: '/nix/store/abc-osmoda', egressSocket: '/r/e.sock'}}))
    expect(flagArgs(argv, '--ro-bind', 2).map((p) => p[1])).not.toContain('/usr/bin/node')
    expect(flagArgs(argv, '--ro-bind', 2).map((p) => p[1])).not.toContain('/nix/store/abc-osmoda')
  })
})

describe('host environment', () => {
  it('finds only the system paths that exist and keeps symlinks as symlinks', () => {
    // Given a fake root with /usr, /lib -> usr/lib and nothing else
    const root = mkdtempSync(join(tmpdir(), 'osmoda-sbx-root-'))
    try {
      mkdirSync(join(root, 'usr/lib'), {recursive: true})
      symlinkSync('usr/lib', join(root, 'lib'))
      mkdirSync(join(root, 'etc/ssl'), {recursive: true})
      writeFileSync(join(root, 'bin'), 'not a directory')
      // Then those are found, in order; the regular file /bin and absent paths are skipped
      expect(findSystemEntries(root)).toEqual([
        {path: '/usr', symlink: null},
        {path: '/lib', symlink: 'usr/lib'},
        {path: '/etc/ssl', symlink: null},
      ])
      expect(systemdIsPid1(root)).toBe(false)
      mkdirSync(join(root, 'run/systemd/system'), {recursive: true})
      expect(systemdIsPid1(root)).toBe(true)
    } finally {
      rmSync(root, {recursive: true, force: true})
    }
  })

  it('resolves the sandbox user: configured user, else nobody under root, else the daemon user', () => {
    const dir = mkdtempSync(join(tmpdir(), 'osmoda-sbx-passwd-'))
    try {
      const passwd = join(dir, 'passwd')
      writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nosmoda-sandbox:x:990:985::/var/empty:/bin/false\n')
      expect(resolveSandboxUser('osmoda-sandbox', {uid: 0, passwd})).toMatchObject({user: {uid: 990, gid: 985, name: 'osmoda-sandbox'}, mode: 'configured'})
      expect(resolveSandboxUser('missing', {uid: 0, passwd})).toMatchObject({user: {uid: 65534, gid: 65534, name: 'nobody'}, mode: 'nobody'})
      expect(resolveSandboxUser('missing', {uid: 1000, passwd})).toMatchObject({user: null, mode: 'self'})
      expect(resolveSandboxUser('osmoda-sandbox', {uid: 990, passwd})).toMatchObject({user: null, mode: 'self'})
      // Without a nobody entry the uid is still 65534, with groups cleared
      writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\n')
      expect(resolveSandboxUser('missing', {uid: 0, passwd})).toMatchObject({user: {uid: 65534, gid: 65534, name: null}})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
