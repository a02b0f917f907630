import {readFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {OsmodaError} from '../errors.js'
import {consistencyProof, createMerkleRange, EMPTY_ROOT, inclusionProof, leafHash, merkleRoot, nodeHash, verifyConsistency, verifyInclusion} from './merkle.js'

// Public vectors shared beside the repository (see shared/vectors/README.md).
const vector = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../../../shared/vectors/merkle/${name}`, import.meta.url), 'utf8')) as T
const hex = (h: string) => Buffer.from(h, 'hex')

interface ReferenceTree {
  leaves: string[]
  leaf_hashes: string[]
  roots_by_tree_size: string[]
  inclusion_proofs: {leaf_index: number; tree_size: number; leaf_hash: string; root: string; proof: string[]}[]
  consistency_proofs: {size1: number; size2: number; root1: string; root2: string; proof: string[]}[]
  hasher_vectors: {desc: string; leaf_data?: string; left?: string; right?: string; hash: string}[]
}

interface Probes {
  inclusion: {file: string; leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; wantErr: boolean}[]
  consistency: {file: string; size1: number; size2: number; root1: string; root2: string; proof: string[] | null; wantErr: boolean}[]
}

const tree = vector<ReferenceTree>('rfc6962-reference-tree.json')
const leaves = tree.leaves.map((l) => leafHash(hex(l)))

describe('RFC 6962 reference tree', () => {
  it('hashes leaves and nodes with the RFC 6962 domain prefixes', () => {
    // Given the hasher vectors When leaf and node hashes are computed Then they match
    expect(EMPTY_ROOT.toString('hex')).toBe(tree.hasher_vectors[0]?.hash)
    for (const v of tree.hasher_vectors.slice(1)) {
      const got = v.leaf_data !== undefined ? leafHash(hex(v.leaf_data)) : nodeHash(hex(v.left as string), hex(v.right as string))
      expect(got.toString('hex'), v.desc).toBe(v.hash)
    }
    expect(leaves.map((l) => l.toString('hex'))).toEqual(tree.leaf_hashes)
  })

  it('computes the root of every prefix 0..8, with merkleRoot and with an incremental range', () => {
    const range = createMerkleRange()
    tree.roots_by_tree_size.forEach((want, size) => {
      expect(merkleRoot(leaves.slice(0, size)).toString('hex'), `size ${size}`).toBe(want)
      expect(range.root().toString('hex'), `range size ${size}`).toBe(want)
      if (size < leaves.length) range.push(leaves[size] as Buffer)
    })
    expect(range.size).toBe(8)
  })

  it('produces the golden inclusion proofs, which verify', () => {
    for (const p of tree.inclusion_proofs) {
      const proof = inclusionProof(leaves, p.leaf_index, p.tree_size)
      expect(proof.map((h) => h.toString('hex')), `leaf ${p.leaf_index} of ${p.tree_size}`).toEqual(p.proof)
      expect(verifyInclusion(hex(p.leaf_hash), p.leaf_index, p.tree_size, proof, hex(p.root))).toBe(true)
    }
  })

  it('produces the golden consistency proofs, which verify', () => {
    for (const p of tree.consistency_proofs) {
      const proof = consistencyProof(leaves, p.size1, p.size2)
      expect(proof.map((h) => h.toString('hex')), `${p.size1} → ${p.size2}`).toEqual(p.proof)
      expect(verifyConsistency(p.size1, p.size2, hex(p.root1), hex(p.root2), proof)).toBe(true)
    }
  })

  it('proves and verifies every (index, size) and every (old, new) pair of the 8-leaf tree', () => {
    for (let size = 1; size <= 8; size++) {
      const root = merkleRoot(leaves.slice(0, size))
      for (let i = 0; i < size; i++) {
        const proof = inclusionProof(leaves, i, size)
        expect(verifyInclusion(leaves[i] as Buffer, i, size, proof, root)).toBe(true)
        // A proof for one leaf does not vouch for another
        expect(verifyInclusion(leaves[(i + 1) % 8] as Buffer, i, size, proof, root)).toBe(false)
      }
      for (let old = 1; old <= size; old++) {
        const proof = consistencyProof(leaves, old, size)
        const oldRoot = merkleRoot(leaves.slice(0, old))
        expect(verifyConsistency(old, size, oldRoot, root, proof), `${old} → ${size}`).toBe(true)
        if (old < size) expect(verifyConsistency(old, size, Buffer.alloc(32), root, proof)).toBe(false)
      }
    }
  })

  it('refuses impossible proof requests', () => {
    expect(() => inclusionProof(leaves, 8, 8)).toThrow(OsmodaError)
    expect(() => inclusionProof(leaves, 0, 9)).toThrow(OsmodaError)
    expect(() => consistencyProof(leaves, 0, 4)).toThrow(OsmodaError)
    expect(() => consistencyProof(leaves, 5, 4)).toThrow(OsmodaError)
  })
})

describe('docs/ledger.md §4 example', () => {
  it('gives the documented leaves and root for the two worked-example events', () => {
    const events = ['cba676cd6b3e660a3d83a682519c0aa3da76301d1fca50d0f4b74870b4f168a6', '0cad729ca9ec62d50aa249ec50f556fd435869ad05be79ef96aa4b6debb1e721'].map(hex)
    const docLeaves = events.map(leafHash)
    expect(docLeaves.map((l) => l.toString('hex'))).toEqual([
      '90f1626ebe26710f063dc34b0ca14dcf5159532599c027f8ad9c2f8ebd3b6b31',
      'ee2cdf15f2d9d66e412ba44c603263fb2e315cd9283f630777c3d59a231dddd4',
    ])
    expect(merkleRoot(docLeaves).toString('base64')).toBe('b44dplz7A13/b0vQV0tHj+r8gOZCncxOJE/9MIWVgYU=')
  })
})

describe('transparency-dev probes', () => {
  const probes = vector<Probes>('rfc6962-transparency-dev-probes.json')

  it.each(probes.inclusion.map((p) => [p.file, p] as const))('inclusion %s', (_file, p) => {
    // Given a probe (happy path or corrupted variant) When verified Then it passes exactly when it should
    const ok = verifyInclusion(hex(p.leafHash), p.leafIdx, p.treeSize, (p.proof ?? []).map(hex), hex(p.root))
    expect(ok).toBe(!p.wantErr)
  })

  it.each(probes.consistency.map((p) => [p.file, p] as const))('consistency %s', (_file, p) => {
    const ok = verifyConsistency(p.size1, p.size2, hex(p.root1), hex(p.root2), (p.proof ?? []).map(hex))
    expect(ok).toBe(!p.wantErr)
  })

  it('covers the whole probe set', () => {
    expect(probes.inclusion).toHaveLength(98)
    expect(probes.consistency).toHaveLength(98)
    expect(probes.inclusion.filter((p) => !p.wantErr)).toHaveLength(6)
  })
})

describe('large trees', () => {
  it('computes the root of 131,073 leaves (2^17 + 1) iteratively and proves against it', () => {
    // Given 2^17 + 1 distinct leaves: one more than a perfect tree, the deepest right edge
    const many = Array.from({length: 131_073}, (_, i) => leafHash(createHash('sha256').update(String(i)).digest()))
    // When the root is computed both ways Then they agree and proofs verify at the edges
    const root = merkleRoot(many)
    const range = createMerkleRange()
    for (const leaf of many) range.push(leaf)
    expect(range.root().equals(root)).toBe(true)
    for (const i of [0, 65_535, 131_071, 131_072]) {
      expect(verifyInclusion(many[i] as Buffer, i, many.length, inclusionProof(many, i, many.length), root)).toBe(true)
    }
    const oldRoot = merkleRoot(many.slice(0, 100_001))
    expect(verifyConsistency(100_001, 131_073, oldRoot, root, consistencyProof(many, 100_001, 131_073))).toBe(true)
  })
})
