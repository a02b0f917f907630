import {describe, expect, it} from 'vitest'
import {privilegeDropPrefix, resolveRunUser, runtimeEnv, scopePrefix} from './spawn-env.js'

describe('runtime spawn environment', () => {
  it('wraps a run in a systemd scope only when a limit is set and systemd is PID 1', async () => {
    expect(await scopePrefix({memoryMax: null, tasksMax: null}, true)).toEqual([])
    expect(await scopePrefix({memoryMax: '2G', tasksMax: 256}, false)).toEqual([])
    const prefix = await scopePrefix({memoryMax: '2G', tasksMax: 256}, true)
    // systemd-run may be absent on this host: then no scope, never a broken argv
    if (prefix.length > 0) expect(prefix.slice(1)).toEqual(['--scope', '--quiet', '--collect', '-p', 'MemoryMax=2G', '-p', 'TasksMax=256', '--'])
  })

  it('the env is minimal with HOME at the workspace, additions last', () => {
    const env = runtimeEnv('/ws', {ANTHROPIC_API_KEY: 'k', LANG: 'en_US.UTF-8'})
    expect(env).toMatchObject({HOME: '/ws', TZ: 'UTC', ANTHROPIC_API_KEY: 'k', LANG: 'en_US.UTF-8'})
    expect(Object.keys(env).sort()).toEqual(['ANTHROPIC_API_KEY', 'HOME', 'LANG', 'PATH', 'TZ'])
  })

  it('drops privileges only for an existing user, and only as root', async () => {
    expect(resolveRunUser(null)).toBeNull()
    expect(resolveRunUser('osmoda-no-such-user')).toBeNull()
    if (process.getuid?.() === 0) {
      expect(resolveRunUser('nobody')).toMatchObject({uid: 65_534})
      const prefix = await privilegeDropPrefix('nobody')
      expect(prefix.slice(1)).toEqual(['--reuid=65534', '--regid=65534', '--init-groups', '--'])
    } else {
      expect(await privilegeDropPrefix('nobody')).toEqual([])
    }
  })
})
