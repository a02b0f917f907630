// Test "systems" for SafeSwitch: real Nix store paths (nix-store --add, offline) whose
// bin/switch-to-configuration starts or stops a small local HTTP service and points a scratch
// current-system link at itself, and a scratch profile whose generations are real nix-env ones.
import {execFileSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'

/** What a test system's activation does. */
export type Behaviour = 'serve' | 'stop' | 'exit4' | 'slow'

/** A scratch NixOS-like host: a profile, a current-system link and a service on a port. */
export interface ScratchHost {
  dir: string
  profile: string
  link: string
  port: number
  /** Env for `osmoda daemon watch` pointing it at the scratch profile and link. */
  watchEnv: Record<string, string>
  /** A new store path whose activation behaves as asked. */
  system(behaviour: Behaviour, tag?: string): string
  /** `nix-env -p <profile> --set <system>`. */
  setProfile(system: string): void
  /** The generation the profile points to. */
  generation(): number
  current(): string
  /** Activates a system as the initial running one. */
  activate(system: string): void
  /** Stops the test service if it runs. */
  stopService(): void
  /** The http_get check of the test service. */
  check: {type: 'http_get'; url: string}
}

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

const NIX = ['--option', 'substituters', '']

/** Sets up a scratch host under `base`. */
export async function scratchHost(base: string): Promise<ScratchHost> {
  const dir = join(base, 'host')
  mkdirSync(join(dir, 'profiles'), {recursive: true})
  const port = await freePort()
  const profile = join(dir, 'profiles', 'system')
  const link = join(dir, 'current-system')
  const pidFile = join(dir, 'service.pid')
  let count = 0
  // The pid file appears once the port listens: activation returns with the service up, as systemd's would.
  const serviceJs = `require('http').createServer((q,r)=>r.end('ok')).listen(${port},'127.0.0.1',()=>require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)))`
  const start = `if [ -f ${pidFile} ] && kill -0 "$(cat ${pidFile})" 2>/dev/null; then :; else setsid -f ${process.execPath} -e "${serviceJs.replace(/"/g, '\\"')}" </dev/null >/dev/null 2>&1; for i in $(seq 1 50); do [ -f ${pidFile} ] && break; sleep 0.05; done; fi`
  const stop = `if [ -f ${pidFile} ]; then kill "$(cat ${pidFile})" 2>/dev/null || true; rm -f ${pidFile}; fi`
  const host: ScratchHost = {
    dir,
    profile,
    link,
    port,
    watchEnv: {OSMODA_WATCH_SYSTEM_PROFILE: profile, OSMODA_WATCH_CURRENT_SYSTEM_LINK: link},
    check: {type: 'http_get', url: `http://127.0.0.1:${port}/`},
    system(behaviour, tag = '') {
      const src = join(dir, `src-${++count}`, 'system')
      mkdirSync(join(src, 'bin'), {recursive: true})
      const action = behaviour === 'serve' ? start : behaviour === 'stop' ? stop : ':'
      // `slow` takes 6 s before it changes anything, then serves.
      const delay = behaviour === 'slow' ? 'sleep 6' : ':'
      const script = `#!/bin/sh
set -u
self=$(dirname "$(dirname "$(readlink -f "$0")")")
case "$1" in
  test)
    ${delay}
    ln -sfn "$self" ${link}.new && mv -T ${link}.new ${link}
    ${behaviour === 'slow' ? start : action}
    exit ${behaviour === 'exit4' ? 4 : 0}
    ;;
  boot)
    echo "$self" > ${join(dir, 'boot-default')}
    ;;
esac
`
      writeFileSync(join(src, 'bin', 'switch-to-configuration'), script)
      chmodSync(join(src, 'bin', 'switch-to-configuration'), 0o755)
      writeFileSync(join(src, 'tag'), `${behaviour} ${tag} ${dir} ${count} ${Math.random()}\n`)
      return execFileSync('nix-store', [...NIX, '--add', src], {encoding: 'utf8'}).trim()
    },
    setProfile(system) {
      execFileSync('nix-env', [...NIX, '-p', profile, '--set', system], {stdio: 'ignore'})
    },
    generation() {
      const target = execFileSync('readlink', [profile], {encoding: 'utf8'}).trim()
      return Number(/-(\d+)-link$/.exec(target)?.[1])
    },
    current: () => realpathSync(link),
    activate(system) {
      execFileSync(join(system, 'bin', 'switch-to-configuration'), ['test'], {stdio: 'ignore'})
    },
    stopService() {
      if (!existsSync(pidFile)) return
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM')
      } catch {
        // Already gone.
      }
      // A killed service may linger as a zombie where PID 1 does not reap, and `kill -0` would still find it.
      rmSync(pidFile, {force: true})
    },
  }
  return host
}
