import {readFileSync} from 'node:fs'
import {connect} from 'node:net'

/** The gid of a group in /etc/group, or null when there is none. */
export function groupId(name: string, groupFile = '/etc/group'): number | null {
  let text: string
  try {
    text = readFileSync(groupFile, 'utf8')
  } catch {
    return null
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':')
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid)
  }
  return null
}

/** Whether something listens on a Unix socket (a leftover file from a crash does not). */
export function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path)
    probe.once('connect', () => (probe.destroy(), resolve(true)))
    probe.once('error', () => resolve(false))
  })
}
