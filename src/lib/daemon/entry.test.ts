import {describe, expect, it} from 'vitest'
import {parseDaemonArgs} from './entry.js'

describe('parseDaemonArgs', () => {
  it.each([
    [['agentd'], {name: 'agentd'}],
    [['agentd', '--config', '/etc/x.json'], {name: 'agentd', configFile: '/etc/x.json'}],
    [['agentd', '--config=/etc/x.json', '--log-level', 'debug'], {name: 'agentd', configFile: '/etc/x.json', logLevel: 'debug'}],
  ])('takes the plain systemd form %j', (argv, want) => {
    expect(parseDaemonArgs(argv)).toEqual(want)
  })

  it.each([[[]], [['nope']], [['agentd', '--help']], [['agentd', '--json']], [['agentd', '--log-level', 'loud']], [['agentd', '--config']], [['agentd', '--config=']]])(
    'leaves %j to oclif (help and usage errors)',
    (argv) => {
      expect(parseDaemonArgs(argv)).toBeNull()
    },
  )
})
