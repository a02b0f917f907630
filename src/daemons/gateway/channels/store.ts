import type {Db} from '../../../lib/db/open.js'

/**
 * gateway.db tables of the channels: the Telegram long-poll offset and the inbound updates
 * already handled (Telegram update_id, WhatsApp message id), so a provider's retry is answered once.
 */
export const CHANNELS_MIGRATION = `
CREATE TABLE channel_offsets (
  channel TEXT PRIMARY KEY,
  next_offset INTEGER NOT NULL
);
CREATE TABLE channel_seen (
  channel TEXT NOT NULL,
  update_key TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (channel, update_key)
) WITHOUT ROWID;
CREATE INDEX channel_seen_at ON channel_seen (seen_at);
`

/** Seen updates are kept this long: providers retry for a day at most. */
const SEEN_RETENTION_MS = 7 * 24 * 3600 * 1000

/** Persistent offsets and de-duplication of inbound channel updates. */
export interface ChannelStore {
  /** True the first time a (channel, key) is seen; false for a repeat. Atomic. */
  markSeen(channel: string, key: string): boolean
  /** The persisted long-poll offset (next update_id to ask for), or 0. */
  offset(channel: string): number
  /** Persists the offset; it never moves backwards. */
  saveOffset(channel: string, next: number): void
  /** Drops seen keys older than the retention. */
  prune(): number
}

/** The store over gateway.db (the caller applies CHANNELS_MIGRATION). */
export function createChannelStore(db: Db, clock: () => number = Date.now): ChannelStore {
  const insertSeen = db.prepare('INSERT OR IGNORE INTO channel_seen (channel, update_key, seen_at) VALUES (?, ?, ?)')
  const selectOffset = db.prepare<[string], {next_offset: number}>('SELECT next_offset FROM channel_offsets WHERE channel = ?')
  const upsertOffset = db.prepare(
    'INSERT INTO channel_offsets (channel, next_offset) VALUES (?, ?) ON CONFLICT (channel) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)',
  )
  const deleteOld = db.prepare('DELETE FROM channel_seen WHERE seen_at < ?')
  return {
    markSeen: (channel, key) => insertSeen.run(channel, key, clock()).changes === 1,
    offset: (channel) => selectOffset.get(channel)?.next_offset ?? 0,
    saveOffset: (channel, next) => {
      upsertOffset.run(channel, next)
    },
    prune: () => deleteOld.run(clock() - SEEN_RETENTION_MS).changes,
  }
}
