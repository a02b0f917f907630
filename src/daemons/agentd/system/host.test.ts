import {describe, expect, it} from 'vitest'
import {
  createCpuSampler,
  cpuUsageBetween,
  isRealFilesystem,
  parseBootTime,
  parseCpuTimes,
  parseMeminfo,
  parseMounts,
  readCpuCount,
  readDisks,
  readHostname,
  readLoadAverage,
  readMemory,
  readUptime,
} from './host.js'

const MEMINFO = `MemTotal:       16000000 kB
MemFree:         2000000 kB
MemAvailable:    6000000 kB
Buffers:          100000 kB
Cached:          3000000 kB
SwapCached:            0 kB
Active(anon):       1520 kB
SwapTotal:       4000000 kB
SwapFree:        3000000 kB
HugePages_Total:       0
`

const STAT_T0 = `cpu  300 0 300 1400 0 0 0 0 0 0
cpu0 100 0 100 800 0 0 0 0 0 0
cpu1 200 0 200 600 0 0 0 0 0 0
intr 12345
btime 1764106200
processes 999
`
const STAT_T1 = `cpu  600 0 400 1600 0 0 0 0 0 0
cpu0 150 0 150 800 0 0 0 0 0 0
cpu1 400 0 250 650 100 0 0 0 0 0
btime 1764106200
`

describe('parseMeminfo', () => {
  it('reports bytes, used as total minus available, swap used as total minus free', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({
      memory_total: 16_000_000 * 1024,
      memory_used: 10_000_000 * 1024,
      memory_available: 6_000_000 * 1024,
      swap_total: 4_000_000 * 1024,
      swap_used: 1_000_000 * 1024,
    })
  })

  it('estimates available memory on kernels without MemAvailable', () => {
    const old = MEMINFO.replace(/^MemAvailable.*\n/m, '')
    expect(parseMeminfo(old).memory_available).toBe((2_000_000 + 100_000 + 3_000_000) * 1024)
  })
})

describe('/proc/stat parsing', () => {
  it('reads per-core times and the boot time', () => {
    expect(parseCpuTimes(STAT_T0)).toEqual([
      {cpu: 0, busy: 200, total: 1000},
      {cpu: 1, busy: 400, total: 1000},
    ])
    expect(parseBootTime(STAT_T0)).toBe(1764106200)
    expect(parseBootTime('cpu 1 2 3')).toBeNull()
  })

  it('computes per-core usage from deltas, iowait counting as idle', () => {
    // cpu0: busy +100 of +100 total; cpu1: busy +250 (iowait 100 is idle) of +400
    expect(cpuUsageBetween(parseCpuTimes(STAT_T0), parseCpuTimes(STAT_T1))).toEqual([100, 62.5])
  })

  it('reports 0 for a core with no elapsed ticks and skips cores that appeared', () => {
    const before = [{cpu: 0, busy: 5, total: 10}]
    const after = [
      {cpu: 0, busy: 5, total: 10},
      {cpu: 1, busy: 1, total: 2},
    ]
    expect(cpuUsageBetween(before, after)).toEqual([0])
  })
})

describe('mount parsing', () => {
  const MOUNTS = `proc /proc proc rw,relatime 0 0
sysfs /sys sysfs rw 0 0
/dev/vda1 / ext4 rw,relatime 0 0
/dev/vda1 /nix/store ext4 ro,relatime 0 0
tmpfs /run tmpfs rw 0 0
tmpfs /run/user/1000 tmpfs rw 0 0
tmpfs /tmp tmpfs rw 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw 0 0
/dev/sdb1 /mnt/my\\040disk xfs rw 0 0
overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0
server:/export /mnt/nfs nfs4 rw 0 0
`

  it('decodes octal escapes in mount points', () => {
    expect(parseMounts(MOUNTS).find((m) => m.device === '/dev/sdb1')).toEqual({device: '/dev/sdb1', mount_point: '/mnt/my disk', fstype: 'xfs'})
  })

  it('keeps real filesystems and drops kernel, runtime and container mounts', () => {
    const kept = parseMounts(MOUNTS)
      .filter(isRealFilesystem)
      .map((m) => m.mount_point)
    expect(kept).toEqual(['/', '/nix/store', '/tmp', '/mnt/my disk', '/mnt/nfs'])
  })
})

describe('live host facts', () => {
  it('reads memory from this machine', async () => {
    const memory = await readMemory()
    expect(memory.memory_total).toBeGreaterThan(0)
    expect(memory.memory_used + memory.memory_available).toBe(memory.memory_total)
  })

  it('lists the root filesystem once, with sizes', async () => {
    const disks = await readDisks()
    const roots = disks.filter((d) => d.mount_point === '/')
    expect(roots).toHaveLength(1)
    expect(roots[0]?.total).toBeGreaterThan(0)
    expect(roots[0]?.available).toBeLessThanOrEqual(roots[0]?.total ?? 0)
    expect(disks.some((d) => d.fstype === 'proc' || d.fstype === 'sysfs' || d.mount_point.startsWith('/sys/'))).toBe(false)
  })

  it('reads uptime and an RFC 3339 boot time in the past', async () => {
    const uptime = await readUptime()
    expect(uptime.uptime_secs).toBeGreaterThan(0)
    expect(uptime.boot_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    expect(Date.parse(uptime.boot_time)).toBeLessThan(Date.now())
  })

  it('reads load, hostname and cpu count', () => {
    expect(readLoadAverage()).toEqual({one: expect.any(Number), five: expect.any(Number), fifteen: expect.any(Number)})
    expect(readHostname()).not.toBe('')
    expect(readCpuCount()).toBeGreaterThan(0)
  })
})

describe('createCpuSampler', () => {
  it('reports [] before the first sample, then 0..100 per core', async () => {
    // Given a sampler with short intervals
    const controller = new AbortController()
    const sampler = createCpuSampler({intervalMs: 100, firstSampleMs: 50})
    expect(sampler.current()).toEqual([])
    // When it runs
    sampler.start(controller.signal)
    try {
      // Then every core gets a percentage
      await expect.poll(() => sampler.current().length, {timeout: 3000}).toBe(readCpuCount())
      for (const value of sampler.current()) {
        expect(value).toBeGreaterThanOrEqual(0)
        expect(value).toBeLessThanOrEqual(100)
      }
    } finally {
      controller.abort()
    }
  })

  it('samples deltas between consecutive reads', async () => {
    // Given /proc/stat snapshots served in order
    const snapshots = [STAT_T0, STAT_T1]
    const controller = new AbortController()
    const sampler = createCpuSampler({intervalMs: 1000, firstSampleMs: 10, readStat: async () => snapshots.shift() ?? STAT_T1})
    // When the first quick sample is in
    sampler.start(controller.signal)
    try {
      await expect.poll(() => sampler.current(), {timeout: 2000}).toEqual([100, 62.5])
    } finally {
      controller.abort()
    }
  })
})
