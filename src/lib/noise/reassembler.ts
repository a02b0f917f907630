// Reassembles one application message from its transport-message pieces under the size cap.
// Small pieces are copied into a shared block instead of being kept one Buffer each: an
// authenticated but hostile peer sending 1-byte fragments would otherwise make us hold millions
// of tiny Buffers (~100 bytes of overhead each) for a 4 MiB message.

const SMALL_PIECE = 8192
const BLOCK = 65536

/** Collects pieces of one message; `take()` returns it and starts the next. */
export class Reassembler {
  private parts: Buffer[] = []
  private block: Buffer | null = null
  private blockFill = 0
  private total = 0

  /** Bytes collected so far for the current message. */
  get size(): number {
    return this.total
  }

  /** Buffers held for the current message (bounded by size / 8 KiB, whatever the fragmentation). */
  get heldBuffers(): number {
    return this.parts.length + (this.blockFill > 0 ? 1 : 0)
  }

  /** Adds one decrypted piece (the caller already checked the cap). */
  add(piece: Buffer): void {
    if (piece.length === 0) return
    this.total += piece.length
    if (piece.length >= SMALL_PIECE) {
      this.flushBlock()
      this.parts.push(piece)
      return
    }
    if (this.block && this.blockFill + piece.length > BLOCK) this.flushBlock()
    this.block ??= Buffer.allocUnsafe(BLOCK)
    piece.copy(this.block, this.blockFill)
    this.blockFill += piece.length
  }

  /** The whole message; resets for the next one. */
  take(): Buffer {
    this.flushBlock()
    const message = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.total)
    this.reset()
    return message
  }

  /** Drops everything collected. */
  reset(): void {
    this.parts = []
    this.total = 0
    this.blockFill = 0
  }

  private flushBlock(): void {
    if (!this.block || this.blockFill === 0) return
    // Copied out at its exact size so a nearly empty block does not pin 64 KiB per part.
    this.parts.push(Buffer.from(this.block.subarray(0, this.blockFill)))
    this.blockFill = 0
  }
}
