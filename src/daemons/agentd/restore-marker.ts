import {readFileSync, rmSync} from 'node:fs'
import {restoreMarkerPath} from '../../lib/backup/manifest.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Logger} from '../../lib/log.js'
import type {OsmodaPaths} from '../../lib/paths.js'

/**
 * `osmoda backup restore` runs offline and leaves the restored ledger exactly as archived (its head
 * must match the manifest); it leaves a marker instead, and agentd records the restore as
 * `backup.restored` when it next starts, then removes the marker.
 */
export function recordRestore(paths: OsmodaPaths, ledger: Ledger, log: Logger): void {
  const file = restoreMarkerPath(paths)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  let marker: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(text)
    marker = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {unreadable: true}
  } catch {
    marker = {unreadable: true}
  }
  ledger.append({type: 'backup.restored', actor: 'agentd', payload: marker})
  rmSync(file, {force: true})
  log.info('recorded a backup restore', {id: marker.id})
}
