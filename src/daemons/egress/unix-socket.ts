import {connect} from 'node:net'

/** Whether something listens on a Unix socket (a leftover file from a crash does not). */
export function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path)
    probe.once('connect', () => (probe.destroy(), resolve(true)))
    probe.once('error', () => resolve(false))
  })
}
