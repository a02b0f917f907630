import type {Db} from '../../lib/db/open.js'

/**
 * mesh.db tables of rooms (append to MESH_MIGRATIONS). `seq` is this node's insertion order: a
 * sync cursor names the last message a peer sent us in its own order, which is what lets a
 * member that missed messages behind a partition get every one of them later.
 */
export const ROOMS_MIGRATION = `
  CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS room_members (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    peer_id TEXT NOT NULL,
    ed25519_pubkey TEXT,
    PRIMARY KEY (room_id, peer_id)
  );
  CREATE TABLE IF NOT EXISTS room_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    ts TEXT NOT NULL,
    sig TEXT NOT NULL,
    UNIQUE (room_id, id)
  );
  CREATE INDEX IF NOT EXISTS room_messages_by_id ON room_messages(room_id, id);
  CREATE TABLE IF NOT EXISTS room_sync_cursors (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    peer_id TEXT NOT NULL,
    after_id TEXT NOT NULL,
    PRIMARY KEY (room_id, peer_id)
  );`

/** A room row with its members. */
export interface RoomRecord {
  id: string
  name: string
  owner: string
  members: string[]
  created_at: string
  message_count: number
}

/** A signed room message as stored and as it travels. */
export interface RoomMessageRecord {
  id: string
  room_id: string
  sender: string
  text: string
  ts: string
  sig: string
}

/** SQL of rooms, members, messages and sync cursors; no rules live here. */
export function createRoomsStore(db: Db) {
  const stmt = {
    room: db.prepare<[string], {id: string; name: string; owner: string; created_at: string}>('SELECT id, name, owner, created_at FROM rooms WHERE id = ?'),
    rooms: db.prepare<[], {id: string}>('SELECT id FROM rooms ORDER BY id'),
    members: db.prepare<[string], {peer_id: string}>('SELECT peer_id FROM room_members WHERE room_id = ? ORDER BY peer_id'),
    memberKey: db.prepare<[string, string], {ed25519_pubkey: string | null}>('SELECT ed25519_pubkey FROM room_members WHERE room_id = ? AND peer_id = ?'),
    count: db.prepare<[string], number>('SELECT count(*) FROM room_messages WHERE room_id = ?').pluck(),
    insertRoom: db.prepare('INSERT INTO rooms (id, name, owner, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING'),
    insertMember: db.prepare(`INSERT INTO room_members (room_id, peer_id, ed25519_pubkey) VALUES (?, ?, ?)
      ON CONFLICT (room_id, peer_id) DO UPDATE SET ed25519_pubkey = coalesce(excluded.ed25519_pubkey, ed25519_pubkey)`),
    hasMessage: db.prepare<[string, string], number>('SELECT seq FROM room_messages WHERE room_id = ? AND id = ?').pluck(),
    oldest: db.prepare<[string], string>('SELECT min(id) FROM room_messages WHERE room_id = ?').pluck(),
    newest: db.prepare<[string], string>('SELECT max(id) FROM room_messages WHERE room_id = ?').pluck(),
    insertMessage: db.prepare('INSERT INTO room_messages (room_id, id, sender, text, ts, sig) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (room_id, id) DO NOTHING'),
    trim: db.prepare('DELETE FROM room_messages WHERE room_id = ? AND id < (SELECT id FROM room_messages WHERE room_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)'),
    page: db.prepare<[string, string, number], RoomMessageRecord>('SELECT id, room_id, sender, text, ts, sig FROM room_messages WHERE room_id = ? AND id < ? ORDER BY id DESC LIMIT ?'),
    afterSeq: db.prepare<[string, number, number], RoomMessageRecord & {seq: number}>('SELECT seq, id, room_id, sender, text, ts, sig FROM room_messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    afterId: db.prepare<[string, string, number], RoomMessageRecord & {seq: number}>('SELECT seq, id, room_id, sender, text, ts, sig FROM room_messages WHERE room_id = ? AND id > ? ORDER BY seq LIMIT ?'),
    cursor: db.prepare<[string, string], string>('SELECT after_id FROM room_sync_cursors WHERE room_id = ? AND peer_id = ?').pluck(),
    setCursor: db.prepare('INSERT INTO room_sync_cursors (room_id, peer_id, after_id) VALUES (?, ?, ?) ON CONFLICT (room_id, peer_id) DO UPDATE SET after_id = excluded.after_id'),
  }

  const getRoom = (id: string): RoomRecord | null => {
    const row = stmt.room.get(id)
    if (!row) return null
    return {...row, members: stmt.members.all(id).map((m) => m.peer_id), message_count: stmt.count.get(id) ?? 0}
  }

  return {
    getRoom,
    listRooms: (): RoomRecord[] => stmt.rooms.all().map((r) => getRoom(r.id) as RoomRecord),
    /** Creates the room if new and adds members (never removes one); `keys` maps member → hex Ed25519 key. */
    upsertRoom: db.transaction((room: {id: string; name: string; owner: string; created_at: string}, members: string[], keys: Record<string, string | undefined>) => {
      stmt.insertRoom.run(room.id, room.name, room.owner, room.created_at)
      for (const peer of members) stmt.insertMember.run(room.id, peer, keys[peer] ?? null)
    }),
    /** The member's Ed25519 key as the owner vouched for it, or null. */
    memberKey: (roomId: string, peerId: string): string | null => stmt.memberKey.get(roomId, peerId)?.ed25519_pubkey ?? null,
    hasMessage: (roomId: string, id: string): boolean => stmt.hasMessage.get(roomId, id) !== undefined,
    newestId: (roomId: string): string | null => stmt.newest.get(roomId) ?? null,
    /**
     * Inserts a message and trims the room to `max` (the newest by id stay). Returns false for a
     * duplicate, or for a message older than everything kept in a full room (it would be trimmed at once).
     */
    addMessage: db.transaction((m: RoomMessageRecord, max: number): boolean => {
      if (stmt.hasMessage.get(m.room_id, m.id) !== undefined) return false
      if ((stmt.count.get(m.room_id) ?? 0) >= max && m.id < (stmt.oldest.get(m.room_id) ?? '')) return false
      stmt.insertMessage.run(m.room_id, m.id, m.sender, m.text, m.ts, m.sig)
      stmt.trim.run(m.room_id, m.room_id, max - 1)
      return true
    }),
    /** The newest `limit` messages below `before` (exclusive), newest first. */
    pageBefore: (roomId: string, before: string | undefined, limit: number): RoomMessageRecord[] => stmt.page.all(roomId, before ?? '\uffff', limit),
    /**
     * Messages this node stored after `afterId` in its own insertion order; when it does not hold
     * `afterId`, the messages whose id sorts after it; all of them for null.
     */
    messagesAfter(roomId: string, afterId: string | null, limit: number): RoomMessageRecord[] {
      const seq = afterId === null ? 0 : stmt.hasMessage.get(roomId, afterId)
      const rows = seq !== undefined ? stmt.afterSeq.all(roomId, seq, limit) : stmt.afterId.all(roomId, afterId as string, limit)
      return rows.map(({seq: _seq, ...m}) => m)
    },
    syncCursor: (roomId: string, peerId: string): string | null => stmt.cursor.get(roomId, peerId) ?? null,
    setSyncCursor: (roomId: string, peerId: string, afterId: string) => void stmt.setCursor.run(roomId, peerId, afterId),
  }
}

/** The rooms store's type. */
export type RoomsStore = ReturnType<typeof createRoomsStore>
