import {migrate, openDatabase, type Db} from '../../lib/db/open.js'
import {ROOMS_MIGRATION} from './rooms-store.js'
import {WITNESS_MIGRATION} from './witness-store.js'

/**
 * mesh.db migrations. Modules that plug into mesh (rooms, witnessing) append their own constants
 * here; never edit an applied one.
 */
export const MESH_MIGRATIONS: string[] = [
  `CREATE TABLE peers (
     id TEXT PRIMARY KEY,
     label TEXT,
     ed25519_pubkey TEXT NOT NULL,
     noise_static_pubkey TEXT NOT NULL,
     endpoint TEXT,
     via TEXT NOT NULL,
     invite_id TEXT,
     invite_secret TEXT,
     added_at TEXT NOT NULL,
     last_seen_at TEXT,
     messages_sent INTEGER NOT NULL DEFAULT 0,
     messages_received INTEGER NOT NULL DEFAULT 0,
     bytes_sent INTEGER NOT NULL DEFAULT 0,
     bytes_received INTEGER NOT NULL DEFAULT 0,
     reconnects INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE invites (
     id TEXT PRIMARY KEY,
     secret_sha256 TEXT NOT NULL,
     label TEXT,
     endpoint TEXT NOT NULL,
     created_at TEXT NOT NULL,
     expires_at TEXT NOT NULL,
     used_at TEXT,
     used_by TEXT,
     revoked_at TEXT
   );
   CREATE TABLE used_invite_codes (code_sha256 TEXT PRIMARY KEY, invite_id TEXT NOT NULL, peer_id TEXT NOT NULL, used_at TEXT NOT NULL);`,
  ROOMS_MIGRATION,
  WITNESS_MIGRATION,
]

/** A pinned peer as stored. */
export interface PeerRow {
  id: string
  label: string | null
  ed25519_pubkey: string
  noise_static_pubkey: string
  endpoint: string | null
  via: 'invite_created' | 'invite_accepted'
  invite_id: string | null
  /** Acceptor side only, until the first handshake with the inviter succeeds. */
  invite_secret: string | null
  added_at: string
  last_seen_at: string | null
  messages_sent: number
  messages_received: number
  bytes_sent: number
  bytes_received: number
  reconnects: number
}

/** An invite this node created. */
export interface InviteRow {
  id: string
  secret_sha256: string
  label: string | null
  endpoint: string
  created_at: string
  expires_at: string
  used_at: string | null
  used_by: string | null
  revoked_at: string | null
}

/** Counters added to a peer when a session ends. */
export interface PeerCounters {
  messages_sent: number
  messages_received: number
  bytes_sent: number
  bytes_received: number
}

/** Why an invite could not be consumed. */
export type ConsumeOutcome = 'ok' | 'unknown' | 'used' | 'revoked' | 'expired' | 'bad_proof' | 'peer_exists'

/** `mesh/mesh.db`: pinned peers, created invites and the hashes of accepted invite codes. */
export function openMeshStore(path: string) {
  const db: Db = openDatabase(path)
  migrate(db, MESH_MIGRATIONS)
  const stmt = {
    peer: db.prepare('SELECT * FROM peers WHERE id = ?'),
    peers: db.prepare('SELECT * FROM peers ORDER BY added_at, id'),
    insertPeer: db.prepare(`INSERT INTO peers (id, label, ed25519_pubkey, noise_static_pubkey, endpoint, via, invite_id, invite_secret, added_at)
      VALUES (@id, @label, @ed25519_pubkey, @noise_static_pubkey, @endpoint, @via, @invite_id, @invite_secret, @added_at)`),
    deletePeer: db.prepare('DELETE FROM peers WHERE id = ?'),
    seen: db.prepare('UPDATE peers SET last_seen_at = ?, invite_secret = NULL, endpoint = COALESCE(?, endpoint) WHERE id = ?'),
    counters: db.prepare(`UPDATE peers SET messages_sent = messages_sent + @messages_sent, messages_received = messages_received + @messages_received,
      bytes_sent = bytes_sent + @bytes_sent, bytes_received = bytes_received + @bytes_received, last_seen_at = @at WHERE id = @id`),
    reconnect: db.prepare('UPDATE peers SET reconnects = reconnects + 1 WHERE id = ?'),
    repin: db.prepare('UPDATE peers SET id = ?, noise_static_pubkey = ? WHERE id = ?'),
    invite: db.prepare('SELECT * FROM invites WHERE id = ?'),
    invites: db.prepare('SELECT * FROM invites ORDER BY id DESC LIMIT 1000'),
    insertInvite: db.prepare('INSERT INTO invites (id, secret_sha256, label, endpoint, created_at, expires_at) VALUES (@id, @secret_sha256, @label, @endpoint, @created_at, @expires_at)'),
    useInvite: db.prepare('UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL'),
    revokeInvite: db.prepare('UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    codeUsed: db.prepare('SELECT 1 FROM used_invite_codes WHERE code_sha256 = ?'),
    useCode: db.prepare('INSERT INTO used_invite_codes (code_sha256, invite_id, peer_id, used_at) VALUES (?, ?, ?, ?)'),
  }
  return {
    db,
    getPeer: (id: string) => stmt.peer.get(id) as PeerRow | undefined,
    listPeers: () => stmt.peers.all() as PeerRow[],
    removePeer: (id: string) => stmt.deletePeer.run(id).changes > 0,
    /** Records a successful handshake: last seen, the endpoint it announced, and the invite secret is no longer needed. */
    markSeen: (id: string, at: string, endpoint: string | null) => void stmt.seen.run(at, endpoint, id),
    addCounters: (id: string, counters: PeerCounters, at: string) => void stmt.counters.run({...counters, id, at}),
    bumpReconnects: (id: string) => void stmt.reconnect.run(id),
    /** A peer's new Noise key after a signed key_rotation: its id follows the key. */
    repinPeer: (oldId: string, newId: string, noiseHex: string) => stmt.repin.run(newId, noiseHex, oldId).changes > 0,
    getInvite: (id: string) => stmt.invite.get(id) as InviteRow | undefined,
    listInvites: () => stmt.invites.all() as InviteRow[],
    insertInvite: (row: Omit<InviteRow, 'used_at' | 'used_by' | 'revoked_at'>) => void stmt.insertInvite.run(row),
    revokeInvite: (id: string, at: string) => stmt.revokeInvite.run(at, id).changes > 0,
    codeUsed: (codeSha256: string) => stmt.codeUsed.get(codeSha256) !== undefined,
    /** Acceptor side: pins the inviter and remembers the code in one transaction (a code is accepted once). */
    acceptInvite: (peer: Omit<PeerRow, 'last_seen_at' | 'messages_sent' | 'messages_received' | 'bytes_sent' | 'bytes_received' | 'reconnects'>, codeSha256: string) =>
      db
        .transaction(() => {
          if (stmt.codeUsed.get(codeSha256)) return 'used' as const
          if (stmt.peer.get(peer.id)) return 'peer_exists' as const
          stmt.insertPeer.run(peer)
          stmt.useCode.run(codeSha256, peer.invite_id, peer.id, peer.added_at)
          return 'ok' as const
        })
        .immediate(),
    /**
     * Inviter side: checks the invite (exists, unused, unrevoked, unexpired, proof) and, in the same
     * transaction, marks it used and pins the new peer. Single use survives restarts.
     */
    consumeInvite: (
      inviteId: string,
      now: Date,
      proofOk: (secretSha256: Buffer) => boolean,
      peer: Omit<PeerRow, 'last_seen_at' | 'messages_sent' | 'messages_received' | 'bytes_sent' | 'bytes_received' | 'reconnects' | 'invite_id' | 'invite_secret' | 'label'>,
    ): {outcome: ConsumeOutcome; invite?: InviteRow} =>
      db
        .transaction(() => {
          const invite = stmt.invite.get(inviteId) as InviteRow | undefined
          if (!invite) return {outcome: 'unknown' as const}
          if (invite.revoked_at) return {outcome: 'revoked' as const, invite}
          if (invite.used_at) return {outcome: 'used' as const, invite}
          if (Date.parse(invite.expires_at) <= now.getTime()) return {outcome: 'expired' as const, invite}
          if (!proofOk(Buffer.from(invite.secret_sha256, 'hex'))) return {outcome: 'bad_proof' as const, invite}
          if (stmt.peer.get(peer.id)) return {outcome: 'peer_exists' as const, invite}
          stmt.useInvite.run(now.toISOString(), peer.id, inviteId)
          stmt.insertPeer.run({...peer, label: invite.label, invite_id: inviteId, invite_secret: null})
          return {outcome: 'ok' as const, invite}
        })
        .immediate(),
    close: () => db.close(),
  }
}

/** The mesh store. */
export type MeshStore = ReturnType<typeof openMeshStore>
