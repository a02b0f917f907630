import type {Frame} from './types.js'

/**
 * A single-consumer async queue of frames: the child's reader pushes, the gateway iterates. Frames
 * pushed after `end()` are dropped, so a late line from a dying child never follows the final frame.
 */
export class FrameQueue implements AsyncIterable<Frame> {
  private readonly buffered: Frame[] = []
  private waiting: ((result: IteratorResult<Frame>) => void) | null = null
  private ended = false

  get isEnded(): boolean {
    return this.ended
  }

  push(frame: Frame): void {
    if (this.ended) return
    if (this.waiting) {
      const resolve = this.waiting
      this.waiting = null
      resolve({value: frame, done: false})
      return
    }
    this.buffered.push(frame)
  }

  end(): void {
    if (this.ended) return
    this.ended = true
    if (this.waiting) {
      const resolve = this.waiting
      this.waiting = null
      resolve({value: undefined, done: true})
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    return {
      next: () => {
        const frame = this.buffered.shift()
        if (frame !== undefined) return Promise.resolve({value: frame, done: false})
        if (this.ended) return Promise.resolve({value: undefined, done: true})
        return new Promise((resolve) => {
          this.waiting = resolve
        })
      },
    }
  }
}
