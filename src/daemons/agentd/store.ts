import {join} from 'node:path'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {HANDS_MIGRATION} from './hands-store.js'
import {INCIDENTS_MIGRATION} from './incident-store.js'

/**
 * agentd's own database, `<state>/agentd/agentd.db` (incidents, approvals, … ; the ledger is
 * separate). Each feature appends its migration to this list; a migration is applied once, in
 * order, by `PRAGMA user_version`.
 */
export const AGENTD_MIGRATIONS: readonly string[] = [INCIDENTS_MIGRATION, HANDS_MIGRATION]

/** Opens (creating and migrating) agentd's database. */
export function openAgentdDb(paths: OsmodaPaths): Db {
  const db = openDatabase(join(paths.daemonStateDir('agentd'), 'agentd.db'))
  migrate(db, AGENTD_MIGRATIONS)
  return db
}
