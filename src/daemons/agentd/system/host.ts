import {stat, statfs} from 'node:fs/promises'
import {cpus, hostname, loadavg} from 'node:os'
import {isoMs, readProcText} from './proc-fs.js'

/** Memory and swap in bytes, as GET /health reports them. */
export interface MemoryInfo {
  memory_total: number
  memory_used: number
  memory_available: number
  swap_total: number
  swap_used: number
}

/** The three load averages. */
export interface LoadAverage {
  one: number
  five: number
  fifteen: number
}

/** Time since boot and the boot instant. */
export interface UptimeInfo {
  uptime_secs: number
  boot_time: string
}

/** One mounted filesystem's usage in bytes (`filesystem` is the device, as df shows it). */
export interface DiskUsage {
  mount_point: string
  filesystem: string
  fstype: string
  total: number
  used: number
  available: number
}

/** One line of /proc/self/mounts. */
export interface MountEntry {
  device: string
  mount_point: string
  fstype: string
}

/** The /proc/meminfo fields osmoda reports, in bytes. */
export function parseMeminfo(text: string): MemoryInfo {
  const kb = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line)
    if (match) kb.set(match[1] as string, Number(match[2]))
  }
  const get = (key: string) => (kb.get(key) ?? 0) * 1024
  const total = get('MemTotal')
  // MemAvailable exists since Linux 3.14; before that free + page cache is the usual estimate.
  const available = kb.has('MemAvailable') ? get('MemAvailable') : get('MemFree') + get('Buffers') + get('Cached')
  const swapTotal = get('SwapTotal')
  return {
    memory_total: total,
    memory_used: Math.max(0, total - available),
    memory_available: available,
    swap_total: swapTotal,
    swap_used: Math.max(0, swapTotal - get('SwapFree')),
  }
}

/** Memory and swap from /proc/meminfo. */
export async function readMemory(procRoot = '/proc'): Promise<MemoryInfo> {
  return parseMeminfo((await readProcText(`${procRoot}/meminfo`)) ?? '')
}

/** The 1, 5 and 15 minute load averages. */
export function readLoadAverage(): LoadAverage {
  const [one = 0, five = 0, fifteen = 0] = loadavg()
  const round = (n: number) => Math.round(n * 100) / 100
  return {one: round(one), five: round(five), fifteen: round(fifteen)}
}

/** The `btime` line of /proc/stat: boot time in seconds since the epoch, or null. */
export function parseBootTime(statText: string): number | null {
  const match = /^btime\s+(\d+)$/m.exec(statText)
  return match ? Number(match[1]) : null
}

/** Boot time in ms since the epoch: /proc/stat's btime, stable between calls unlike now − uptime. */
export async function readBootTimeMs(procRoot = '/proc'): Promise<number> {
  const btime = parseBootTime((await readProcText(`${procRoot}/stat`)) ?? '')
  if (btime !== null) return btime * 1000
  return Date.now() - (await readUptimeSeconds(procRoot)) * 1000
}

async function readUptimeSeconds(procRoot: string): Promise<number> {
  const text = (await readProcText(`${procRoot}/uptime`)) ?? '0'
  return Number(text.split(/\s+/, 1)[0]) || 0
}

/** Whole seconds since boot and the boot time (RFC 3339 with ms). */
export async function readUptime(procRoot = '/proc'): Promise<UptimeInfo> {
  const [seconds, bootMs] = await Promise.all([readUptimeSeconds(procRoot), readBootTimeMs(procRoot)])
  return {uptime_secs: Math.floor(seconds), boot_time: isoMs(bootMs)}
}

/** This host's name. */
export function readHostname(): string {
  return hostname()
}

/** The number of online CPUs. */
export function readCpuCount(): number {
  return cpus().length
}

/** Undoes the octal escapes (`\040` for a space) the kernel writes in mount tables. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
}

/** The entries of a mount table such as /proc/self/mounts. */
export function parseMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    const [device, mountPoint, fstype] = line.split(' ')
    if (!device || !mountPoint || !fstype) continue
    entries.push({device: unescapeMount(device), mount_point: unescapeMount(mountPoint), fstype})
  }
  return entries
}

// Kernel and virtual filesystems: they hold no user data and their sizes mean nothing to an agent.
const PSEUDO_FS = new Set([
  'proc', 'sysfs', 'cgroup', 'cgroup2', 'devtmpfs', 'devpts', 'securityfs', 'pstore', 'debugfs', 'tracefs', 'configfs',
  'fusectl', 'mqueue', 'hugetlbfs', 'bpf', 'autofs', 'binfmt_misc', 'rpc_pipefs', 'nsfs', 'efivarfs', 'selinuxfs', 'ramfs',
  'squashfs', 'nfsd', 'fuse.gvfsd-fuse', 'fuse.portal', 'fuse.lxcfs',
])
// RAM- and container-backed mounts below these are runtime plumbing, not disks (e.g. /run/user/1000).
const PLUMBING_PREFIXES = ['/run', '/dev', '/sys', '/proc', '/var/lib/docker', '/var/lib/containers', '/var/lib/kubelet']
const RAM_FS = new Set(['tmpfs', 'overlay', 'shm', 'zram'])

/** True for mounts worth reporting as disks: no pseudo filesystems, no tmpfs/overlay under /run, /dev, …. */
export function isRealFilesystem(entry: MountEntry): boolean {
  if (PSEUDO_FS.has(entry.fstype)) return false
  if (!RAM_FS.has(entry.fstype)) return true
  return !PLUMBING_PREFIXES.some((prefix) => entry.mount_point === prefix || entry.mount_point.startsWith(`${prefix}/`))
}

/** Gives up on a stat that hangs (a dead NFS server) instead of hanging /health with it. */
const STATFS_TIMEOUT_MS = 2000

/** `promise`'s value, or null when it fails or takes longer than STATFS_TIMEOUT_MS. */
async function withinDeadline<T>(promise: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), STATFS_TIMEOUT_MS)
  })
  try {
    return await Promise.race([promise.catch(() => null), timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function usageOf(entry: MountEntry): Promise<DiskUsage | null> {
  const info = await withinDeadline(statfs(entry.mount_point))
  if (!info) return null
  return {
    mount_point: entry.mount_point,
    filesystem: entry.device,
    fstype: entry.fstype,
    total: info.blocks * info.bsize,
    used: (info.blocks - info.bfree) * info.bsize,
    available: info.bavail * info.bsize,
  }
}

/**
 * Usage of each real filesystem, one row per device: bind mounts (e.g. NixOS's /nix/store) and
 * repeated mounts keep the shortest mount point. A block device de-dups by its name, anything else by
 * st_dev, because every tmpfs is named "tmpfs".
 */
export async function readDisks(mountsFile = '/proc/self/mounts'): Promise<DiskUsage[]> {
  const entries = parseMounts((await readProcText(mountsFile)) ?? '').filter(isRealFilesystem)
  entries.sort((a, b) => a.mount_point.length - b.mount_point.length)
  const seen = new Set<string>()
  const disks: DiskUsage[] = []
  for (const entry of entries) {
    const key = entry.device.startsWith('/') ? entry.device : `dev:${(await withinDeadline(stat(entry.mount_point)))?.dev ?? entry.mount_point}`
    if (seen.has(key)) continue
    seen.add(key)
    const usage = await usageOf(entry)
    if (usage && usage.total > 0) disks.push(usage)
  }
  return disks.sort((a, b) => a.mount_point.localeCompare(b.mount_point))
}

/** Cumulative jiffies of one CPU from /proc/stat. */
export interface CpuTimes {
  cpu: number
  busy: number
  total: number
}

/** The per-core `cpuN` lines of /proc/stat (the aggregate `cpu` line is skipped). */
export function parseCpuTimes(statText: string): CpuTimes[] {
  const times: CpuTimes[] = []
  for (const line of statText.split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line)
    if (!match) continue
    // user nice system idle iowait irq softirq steal; guest and guest_nice are already in user/nice.
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = (match[2] as string).trim().split(/\s+/).map(Number)
    const total = user + nice + system + idle + iowait + irq + softirq + steal
    times.push({cpu: Number(match[1]), busy: total - idle - iowait, total})
  }
  return times
}

/** Percent busy per core between two samples (0..100, one decimal); cores missing from either are skipped. */
export function cpuUsageBetween(previous: readonly CpuTimes[], next: readonly CpuTimes[]): number[] {
  const before = new Map(previous.map((t) => [t.cpu, t]))
  const usage: number[] = []
  for (const now of next) {
    const then = before.get(now.cpu)
    if (!then) continue
    const total = now.total - then.total
    const percent = total > 0 ? ((now.busy - then.busy) / total) * 100 : 0
    usage.push(Math.round(Math.min(100, Math.max(0, percent)) * 10) / 10)
  }
  return usage
}

/** Per-core CPU usage kept fresh in the background for GET /health. */
export interface CpuSampler {
  /** Starts sampling until `signal` aborts; later calls are ignored. */
  start(signal: AbortSignal): void
  /** The latest per-core percentages; [] until the first sample is in. */
  current(): number[]
}

/** Options of createCpuSampler. */
export interface CpuSamplerOptions {
  intervalMs?: number
  /** The first sample comes this soon after start, so /health has numbers early (default 250 ms). */
  firstSampleMs?: number
  readStat?: () => Promise<string>
}

/**
 * A sampler of per-core usage from /proc/stat deltas. It takes a baseline at start and a first quick
 * sample after `firstSampleMs` (250 ms), then one every `intervalMs` (5 s), each covering the time
 * since the previous one. `current()` is [] only during those first 250 ms.
 */
export function createCpuSampler(options: CpuSamplerOptions = {}): CpuSampler {
  const intervalMs = options.intervalMs ?? 5000
  const firstSampleMs = Math.min(options.firstSampleMs ?? 250, intervalMs)
  const readStat = options.readStat ?? (async () => (await readProcText('/proc/stat')) ?? '')
  let latest: number[] = []
  let started = false

  const sampleLoop = async (signal: AbortSignal) => {
    let previous = parseCpuTimes(await readStat().catch(() => ''))
    let delay = firstSampleMs
    while (!signal.aborted) {
      await sleep(delay, signal)
      if (signal.aborted) return
      // A failed read keeps the last value; the next tick tries again.
      const next = await readStat().then(parseCpuTimes, () => null)
      if (next) {
        latest = cpuUsageBetween(previous, next)
        previous = next
      }
      delay = intervalMs
    }
  }

  return {
    start(signal) {
      if (started) return
      started = true
      sampleLoop(signal).catch(() => {})
    },
    current: () => [...latest],
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; never keeps the process alive on its own. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    timer.unref()
    signal.addEventListener('abort', done, {once: true})
  })
}
