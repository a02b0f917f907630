import {describe, expect, it} from 'vitest'
import {createHostFacts} from './host-facts.js'

describe('host facts', () => {
  it('reads real values and serves one reading for a second', async () => {
    let clock = 0
    const facts = createHostFacts(() => clock)
    const first = await facts.health()
    expect(first.cpu_count).toBeGreaterThan(0)
    expect(first.memory_total).toBeGreaterThan(0)
    expect(first.disks.some((d) => d.mount_point === '/')).toBe(true)
    clock = 999
    expect(await facts.health()).toBe(first)
    clock = 1000
    expect(await facts.health()).not.toBe(first)
  })
})
