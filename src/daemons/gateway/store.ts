import {join} from 'node:path'
import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import type {OsmodaPaths} from '../../lib/paths.js'
import {CHANNELS_MIGRATION} from './channels/store.js'

const MIGRATIONS = [
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     ts TEXT NOT NULL, category TEXT NOT NULL, type TEXT NOT NULL,
     agent_id TEXT, request_id TEXT, data TEXT NOT NULL);
   CREATE TABLE requests (
     request_id TEXT PRIMARY KEY, action TEXT NOT NULL, status TEXT NOT NULL,
     agent_id TEXT, session_id TEXT, channel TEXT,
     created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
     progress TEXT, result TEXT, failure TEXT, last_activity_ms INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX requests_status ON requests(status);
   CREATE TABLE chat_entries (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     session_id TEXT NOT NULL, request_id TEXT, kind TEXT NOT NULL,
     text TEXT, tool TEXT, target TEXT, ok INTEGER, message_id TEXT, created_at TEXT NOT NULL);
   CREATE INDEX chat_entries_session ON chat_entries(session_id, seq);
   CREATE UNIQUE INDEX chat_entries_message ON chat_entries(request_id, message_id) WHERE message_id IS NOT NULL;
   CREATE TABLE diagnostics (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     ts TEXT NOT NULL, ts_ms INTEGER NOT NULL, level TEXT NOT NULL, kind TEXT NOT NULL,
     agent_id TEXT, request_id TEXT, message TEXT NOT NULL, data TEXT);`,
  `CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  CHANNELS_MIGRATION,
]

/** gateway.db: stream events, request receipts, chat history and diagnostics (SPEC §2.10). */
export function openGatewayDb(paths: OsmodaPaths): Db {
  const db = openDatabase(join(paths.daemonStateDir('gateway'), 'gateway.db'))
  // Every stream event is a commit: with FULL each one waits for an fsync (~100 events/s here).
  // In WAL mode NORMAL still survives a crash of the gateway (kill -9); only a power loss can drop
  // the last moments. The ledger, which must survive power loss, keeps FULL.
  db.pragma('synchronous = NORMAL')
  migrate(db, MIGRATIONS)
  return db
}
