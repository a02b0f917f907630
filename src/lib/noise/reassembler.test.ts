import {randomBytes} from 'node:crypto'
import {describe, expect, it} from 'vitest'
import {Reassembler} from './reassembler.js'

describe('Reassembler', () => {
  it('rebuilds a message from mixed tiny and large pieces, in order, holding few buffers', () => {
    // Given a message cut into 20000 one-byte pieces with two 65518-byte pieces among them
    const message = randomBytes(20000 + 2 * 65518)
    const cuts = [...Array.from({length: 10000}, (_, i) => [i, i + 1]), [10000, 75518], ...Array.from({length: 10000}, (_, i) => [75518 + i, 75519 + i]), [85518, message.length]]
    const r = new Reassembler()
    // When they are added one by one
    for (const [a, b] of cuts) r.add(message.subarray(a, b))
    // Then few buffers are held and the message comes back whole
    expect(r.heldBuffers).toBeLessThanOrEqual(6)
    expect(r.size).toBe(message.length)
    expect(r.take().equals(message)).toBe(true)
    // And the next message starts empty
    r.add(Buffer.from('next'))
    expect(r.take().toString()).toBe('next')
    expect(r.take()).toHaveLength(0)
  })
})
