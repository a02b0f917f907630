import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {openMeshStore} from './store.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})
function fresh(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-store-'))
  dirs.push(dir)
  return join(dir, 'mesh.db')
}

const T0 = new Date('2026-11-26T10:00:00.000Z')
const peer = (id: string) => ({id, ed25519_pubkey: 'a'.repeat(64), noise_static_pubkey: 'b'.repeat(64), endpoint: null, via: 'invite_created' as const, added_at: T0.toISOString()})
const invite = {id: 'inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', secret_sha256: 'c'.repeat(64), label: 'b', endpoint: '127.0.0.1:1', created_at: T0.toISOString(), expires_at: '2026-11-26T11:00:00.000Z'}

describe('mesh store invites', () => {
  it('consume an invite exactly once, across a reopen', () => {
    // Given a stored invite
    const path = fresh()
    const store = openMeshStore(path)
    store.insertInvite(invite)
    // When a bad proof, then a good one, then a replay arrive
    expect(store.consumeInvite(invite.id, T0, () => false, peer('1'.repeat(32))).outcome).toBe('bad_proof')
    expect(store.consumeInvite(invite.id, T0, () => true, peer('1'.repeat(32))).outcome).toBe('ok')
    expect(store.consumeInvite(invite.id, T0, () => true, peer('2'.repeat(32))).outcome).toBe('used')
    store.close()
    // Then after a restart it is still used and the first peer is pinned with the invite's label
    const again = openMeshStore(path)
    expect(again.consumeInvite(invite.id, T0, () => true, peer('3'.repeat(32))).outcome).toBe('used')
    expect(again.getPeer('1'.repeat(32))).toMatchObject({label: 'b', via: 'invite_created', invite_id: invite.id})
    expect(again.getPeer('2'.repeat(32))).toBeUndefined()
    expect(again.getInvite(invite.id)).toMatchObject({used_by: '1'.repeat(32)})
    again.close()
  })

  it('refuse expired, revoked and unknown invites without pinning anyone', () => {
    const store = openMeshStore(fresh())
    store.insertInvite(invite)
    expect(store.consumeInvite(invite.id, new Date('2026-11-26T11:00:00.000Z'), () => true, peer('1'.repeat(32))).outcome).toBe('expired')
    expect(store.consumeInvite('inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C7', T0, () => true, peer('1'.repeat(32))).outcome).toBe('unknown')
    expect(store.revokeInvite(invite.id, T0.toISOString())).toBe(true)
    expect(store.consumeInvite(invite.id, T0, () => true, peer('1'.repeat(32))).outcome).toBe('revoked')
    expect(store.listPeers()).toEqual([])
    store.close()
  })

  it('remember an accepted code so it cannot be accepted twice', () => {
    const store = openMeshStore(fresh())
    const row = {...peer('4'.repeat(32)), via: 'invite_accepted' as const, label: null, endpoint: '127.0.0.1:2', invite_id: invite.id, invite_secret: 'x'}
    expect(store.acceptInvite(row, 'd'.repeat(64))).toBe('ok')
    expect(store.acceptInvite({...row, id: '5'.repeat(32)}, 'd'.repeat(64))).toBe('used')
    expect(store.acceptInvite(row, 'e'.repeat(64))).toBe('peer_exists')
    // And the first handshake clears the stored secret
    store.markSeen('4'.repeat(32), T0.toISOString(), null)
    expect(store.getPeer('4'.repeat(32))).toMatchObject({invite_secret: null, endpoint: '127.0.0.1:2'})
    store.close()
  })
})
