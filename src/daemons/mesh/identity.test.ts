import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {ensureIdentity} from '../../lib/identity.js'
import {pathsFrom} from '../../lib/paths.js'
import {identityDocProblem, loadMeshKeys, rotateNoiseKey, verifyRotation, signRotation} from './identity.js'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})
function initialised() {
  const base = mkdtempSync(join(tmpdir(), 'mesh-identity-'))
  dirs.push(base)
  const paths = pathsFrom({runDir: join(base, 'run'), stateDir: join(base, 'state'), configDir: join(base, 'config')})
  mkdirSync(paths.identityDir, {recursive: true, mode: 0o711})
  ensureIdentity(paths)
  return paths
}

describe('mesh node keys', () => {
  it('load what osmoda init created, as a self-consistent signed identity', () => {
    const paths = initialised()
    const keys = loadMeshKeys(paths)
    const stored = JSON.parse(readFileSync(join(paths.identityDir, 'identity.json'), 'utf8')) as {instance_id: string}
    expect(keys.doc.instance_id).toBe(stored.instance_id)
    expect(identityDocProblem(keys.doc)).toBeNull()
    expect(keys.doc.capabilities).toEqual(['mesh.v1', 'ledger.witness', 'fleet'])
    // The same keys give the same document (a restart changes nothing peers pinned)
    expect(loadMeshKeys(paths).doc).toEqual(keys.doc)
  })

  it('refuse to start without the Noise key and never create one', () => {
    const paths = initialised()
    rmSync(join(paths.identityDir, 'noise_static.key'))
    expect(() => loadMeshKeys(paths)).toThrow(expect.objectContaining({code: 'NOT_READY'}))
    expect(existsSync(join(paths.identityDir, 'noise_static.key'))).toBe(false)
  })

  it('rotate the Noise key only: new instance_id, same Ed25519 key and ledger origin, vouched for by the old identity', () => {
    // Given an initialised node
    const paths = initialised()
    const before = loadMeshKeys(paths)
    const origin = (JSON.parse(readFileSync(join(paths.identityDir, 'identity.json'), 'utf8')) as {ledger_origin: string}).ledger_origin
    // When it rotates
    const after = rotateNoiseKey(paths, before, new Date('2026-11-26T12:00:00.000Z'))
    // Then the new identity is on disk, consistent, and keeps the node key and ledger origin
    expect(after.doc.instance_id).not.toBe(before.doc.instance_id)
    expect(after.doc.ed25519_pubkey).toBe(before.doc.ed25519_pubkey)
    expect(loadMeshKeys(paths).doc).toEqual(after.doc)
    const stored = JSON.parse(readFileSync(join(paths.identityDir, 'identity.json'), 'utf8')) as {instance_id: string; ledger_origin: string}
    expect(stored).toMatchObject({instance_id: after.doc.instance_id, ledger_origin: origin})
    expect(statSync(join(paths.identityDir, 'noise_static.key')).mode & 0o777).toBe(0o600)
    // And the rotation statement verifies with the pinned Ed25519 key only for this old id and document
    const sig = signRotation(before.signingKey, before.doc.instance_id, after.doc)
    expect(verifyRotation(before.ed25519Public, before.doc.instance_id, after.doc, sig)).toBe(true)
    expect(verifyRotation(before.ed25519Public, 'a'.repeat(32), after.doc, sig)).toBe(false)
    expect(verifyRotation(before.ed25519Public, before.doc.instance_id, before.doc, sig)).toBe(false)
  })
})
