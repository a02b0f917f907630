// Cuts a TCP byte stream into SPEC §2.5 frames (2-byte big-endian length ‖ Noise message). A frame
// is handed out as the list of socket-chunk views it spans, never copied: a 65537-byte transport
// frame nearly always straddles two 64 KiB reads, and at 400 MB/s a copy per frame is a visible
// share of the budget. The cipher decrypts the pieces in a streaming fashion.

/** Receives one complete frame as views into the socket chunks, `length` bytes in all. */
export type FrameHandler = (pieces: Buffer[], length: number) => void

/** Incremental parser of length-prefixed frames; `onFrame` is called synchronously per complete frame. */
export class FrameReader {
  private chunks: Buffer[] = []
  private buffered = 0
  private stopped = false

  constructor(public onFrame: FrameHandler) {}

  /** Feeds bytes from the socket. */
  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return
    this.chunks.push(chunk)
    this.buffered += chunk.length
    while (!this.stopped && this.buffered >= 2) {
      const length = this.peekLength()
      if (this.buffered < 2 + length) return
      this.take(2)
      this.onFrame(this.take(length), length)
    }
  }

  /** Drops buffered bytes and ignores everything after (the session is closed). */
  stop(): void {
    this.stopped = true
    this.chunks = []
    this.buffered = 0
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer
    if (first.length >= 2) return first.readUInt16BE(0)
    return ((first[0] as number) << 8) | ((this.chunks[1] as Buffer)[0] as number)
  }

  private take(n: number): Buffer[] {
    this.buffered -= n
    const out: Buffer[] = []
    while (n > 0) {
      const chunk = this.chunks[0] as Buffer
      const used = Math.min(chunk.length, n)
      out.push(used === chunk.length ? chunk : chunk.subarray(0, used))
      if (used === chunk.length) this.chunks.shift()
      else this.chunks[0] = chunk.subarray(used)
      n -= used
    }
    return out
  }
}

/** One Buffer of a frame's pieces (copies only when the frame spans chunks). */
export function joinPieces(pieces: Buffer[], length: number): Buffer {
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, length)
}
