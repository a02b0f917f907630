import {UsageError} from '../errors.js'
import {sha256} from './sha256.js'

// RFC 9162 §2.1.1 domain separation: 0x00 prefixes leaves, 0x01 interior nodes.
const LEAF_PREFIX = Buffer.from([0x00])

/** RFC 9162 leaf hash of an event hash: SHA-256(0x00 ‖ eventHash). */
export function leafHash(eventHash: Buffer): Buffer {
  return sha256(Buffer.concat([LEAF_PREFIX, eventHash]))
}

/** RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  const preimage = Buffer.allocUnsafe(1 + left.length + right.length)
  preimage[0] = 0x01
  left.copy(preimage, 1)
  right.copy(preimage, 1 + left.length)
  return sha256(preimage)
}

/** The root of an empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT = sha256(Buffer.alloc(0))

/** An append-only Merkle tree kept as its compact range: one hash per perfect subtree. */
export interface MerkleRange {
  /** Appends one leaf hash (already leaf-hashed). */
  push(leaf: Buffer): void
  /** The number of leaves pushed. */
  readonly size: number
  /** The RFC 9162 root of the leaves pushed so far. */
  root(): Buffer
}

/**
 * Creates an empty compact range. Pushing n leaves costs O(n) hashes in total and O(log n)
 * memory, so a million-event root needs no recursion and no list of all leaves.
 */
export function createMerkleRange(): MerkleRange {
  const hashes: Buffer[] = []
  const sizes: number[] = []
  let size = 0
  return {
    push(leaf) {
      let hash = leaf
      let width = 1
      // Merging equal-width neighbours keeps the left-balanced shape RFC 9162's MTH defines.
      while (sizes.length > 0 && sizes[sizes.length - 1] === width) {
        hash = nodeHash(hashes.pop() as Buffer, hash)
        sizes.pop()
        width *= 2
      }
      hashes.push(hash)
      sizes.push(width)
      size++
    },
    get size() {
      return size
    },
    root() {
      if (hashes.length === 0) return EMPTY_ROOT
      let acc = hashes[hashes.length - 1] as Buffer
      for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i] as Buffer, acc)
      return acc
    },
  }
}

/** RFC 9162 MTH over leaf hashes (the empty tree's root is SHA-256("")). */
export function merkleRoot(leafHashes: readonly Buffer[]): Buffer {
  return subtreeRoot(leafHashes, 0, leafHashes.length)
}

function subtreeRoot(leaves: readonly Buffer[], start: number, end: number): Buffer {
  const range = createMerkleRange()
  for (let i = start; i < end; i++) range.push(leaves[i] as Buffer)
  return range.root()
}

// Largest power of two strictly below n (n ≥ 2): the split point of RFC 9162 §2.1.1.
function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function checkSize(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new UsageError(`${name} ${value} is outside 0..${max}`, {details: [`${name}: an integer in 0..${max}`]})
  }
}

/**
 * RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of the first `size` leaves, in the
 * order a verifier consumes it (leaf level first). O(size) hashing in total.
 */
export function inclusionProof(leafHashes: readonly Buffer[], index: number, size: number): Buffer[] {
  checkSize('size', size, leafHashes.length)
  checkSize('index', index, size - 1)
  const proof: Buffer[] = []
  let start = 0
  let end = size
  let m = index
  // Walk down from the root; each level contributes the root of the sibling subtree.
  while (end - start > 1) {
    const k = splitPoint(end - start)
    if (m < k) {
      proof.push(subtreeRoot(leafHashes, start + k, end))
      end = start + k
    } else {
      proof.push(subtreeRoot(leafHashes, start, start + k))
      start += k
      m -= k
    }
  }
  return proof.reverse()
}

/**
 * RFC 9162 §2.1.4.1 consistency proof between the trees of the first `oldSize` and `newSize`
 * leaves (0 < oldSize ≤ newSize ≤ leafHashes.length); empty when the sizes are equal.
 */
export function consistencyProof(leafHashes: readonly Buffer[], oldSize: number, newSize: number): Buffer[] {
  checkSize('new size', newSize, leafHashes.length)
  checkSize('old size', oldSize, newSize)
  if (oldSize === 0) throw new UsageError('a consistency proof needs an old size of at least 1', {details: ['old: at least 1']})
  const suffix: Buffer[] = []
  let start = 0
  let end = newSize
  let m = oldSize
  let complete = true
  // SUBPROOF(m, D[start:end], complete), unrolled: descend until the old tree is a whole subtree.
  while (m !== end - start) {
    const k = splitPoint(end - start)
    if (m <= k) {
      suffix.push(subtreeRoot(leafHashes, start + k, end))
      end = start + k
    } else {
      suffix.push(subtreeRoot(leafHashes, start, start + k))
      start += k
      m -= k
      complete = false
    }
  }
  const proof = complete ? [] : [subtreeRoot(leafHashes, start, end)]
  return proof.concat(suffix.reverse())
}

const isHash = (b: Buffer): boolean => b.length === 32

/** RFC 9162 §2.1.3.2: whether `proof` shows `leaf` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(leaf: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false
  // A leaf hash of another length is a caller mix-up (raw data instead of its hash): refuse it.
  if (!isHash(leaf) || !proof.every(isHash)) return false
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of proof) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r)
      // Skip levels where this node is a left child with no right sibling in the tree.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else {
      r = nodeHash(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && r.equals(root)
}

/**
 * RFC 9162 §2.1.4.2: whether `proof` shows the tree of `oldSize` with `oldRoot` is a prefix of the
 * tree of `newSize` with `newRoot`. Equal sizes need an empty proof and equal roots; size 0 fails.
 */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Buffer, newRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 1 || newSize < oldSize) return false
  if (!proof.every(isHash)) return false
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot)
  if (proof.length === 0) return false
  // When the old tree is a perfect subtree its root is the proof's implicit first element.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof]
  let fn = oldSize - 1
  let sn = newSize - 1
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  let fr = path[0] as Buffer
  let sr = fr
  for (let i = 1; i < path.length; i++) {
    const c = path[i] as Buffer
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr)
      sr = nodeHash(c, sr)
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else {
      sr = nodeHash(sr, c)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot)
}

function isPowerOfTwo(n: number): boolean {
  let k = 1
  while (k < n) k *= 2
  return k === n
}
