import {readBootTimeMs} from './host.js'
import {isoMs, listPids, mapConcurrent, PROC_CONCURRENCY, readProcText} from './proc-fs.js'

/**
 * USER_HZ, the unit of /proc tick counts. Node cannot call sysconf(_SC_CLK_TCK), but the kernel fixes
 * USER_HZ at 100 in its userspace ABI on every architecture osmoda runs on.
 */
const TICKS_PER_SECOND = 100

/** Longest command line returned; the rest of a huge argv is noise to the agent. */
const MAX_COMMAND_CHARS = 4096

/** One process as POST /system/query `processes` returns it. */
export interface ProcessInfo {
  pid: number
  ppid: number
  name: string
  user: string
  /** Percent of one CPU averaged since the process started (can exceed 100 for multithreaded work). */
  cpu_usage: number
  /** Resident set size in bytes. */
  memory: number
  status: string
  start_time: string
  command: string
}

/** The fields osmoda uses from /proc/<pid>/stat. */
export interface ProcStat {
  pid: number
  name: string
  state: string
  ppid: number
  cpuTicks: number
  startTicks: number
}

/** Facts shared by every process of one listing, read once. */
export interface ProcessContext {
  procRoot: string
  users: Map<number, string>
  bootMs: number
  nowMs: number
}

/** Options of listProcesses. */
export interface ListProcessesOptions {
  sort: 'cpu' | 'memory'
  limit: number
  /** Case-insensitive substring of the name or command line. */
  name?: string
  procRoot?: string
}

const STATES: Record<string, string> = {
  R: 'running',
  S: 'sleeping',
  D: 'disk-sleep',
  Z: 'zombie',
  T: 'stopped',
  t: 'tracing-stop',
  X: 'dead',
  x: 'dead',
  I: 'idle',
  P: 'parked',
  K: 'wakekill',
  W: 'waking',
}

/** Parses /proc/<pid>/stat; the name sits in parentheses and may itself contain spaces and ')'. */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return null
  // Fields after the name, numbered from 3 in proc(5): state ppid … utime(14) stime(15) … starttime(22).
  const rest = text.slice(close + 2).split(' ')
  const field = (n: number) => Number(rest[n - 3])
  const pid = Number(text.slice(0, open).trim())
  if (!Number.isInteger(pid) || rest.length < 20) return null
  return {
    pid,
    name: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: field(4),
    cpuTicks: field(14) + field(15),
    startTicks: field(22),
  }
}

/** The effective uid and VmRSS (bytes; 0 for kernel threads) from /proc/<pid>/status. */
export function parseProcStatus(text: string): {uid: number | null; rssBytes: number} {
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(text)
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text)
  return {uid: uid ? Number(uid[1]) : null, rssBytes: rss ? Number(rss[1]) * 1024 : 0}
}

/** uid → user name from /etc/passwd text. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>()
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':')
    if (name && uid !== undefined && /^\d+$/.test(uid) && !users.has(Number(uid))) users.set(Number(uid), name)
  }
  return users
}

/** Reads what every process row needs once: users, boot time and the time of the listing. */
export async function readProcessContext(procRoot = '/proc'): Promise<ProcessContext> {
  const [passwd, bootMs] = await Promise.all([readProcText('/etc/passwd'), readBootTimeMs(procRoot)])
  return {procRoot, users: parsePasswd(passwd ?? ''), bootMs, nowMs: Date.now()}
}

/** One process's row, or null when it exited (or became unreadable) while being read. */
export async function readProcessInfo(pid: number, ctx: ProcessContext): Promise<ProcessInfo | null> {
  const dir = `${ctx.procRoot}/${pid}`
  const [statText, statusText, cmdline] = await Promise.all([readProcText(`${dir}/stat`), readProcText(`${dir}/status`), readProcText(`${dir}/cmdline`)])
  const stat = statText === null ? null : parseProcStat(statText)
  if (!stat || statusText === null) return null
  const status = parseProcStatus(statusText)
  const startMs = ctx.bootMs + (stat.startTicks * 1000) / TICKS_PER_SECOND
  const aliveSecs = Math.max((ctx.nowMs - startMs) / 1000, 1 / TICKS_PER_SECOND)
  const cpuSecs = stat.cpuTicks / TICKS_PER_SECOND
  const args = (cmdline ?? '').replace(/\0+$/, '').split('\0').join(' ')
  return {
    pid,
    ppid: stat.ppid,
    name: stat.name,
    user: status.uid === null ? '?' : (ctx.users.get(status.uid) ?? String(status.uid)),
    cpu_usage: Math.round((cpuSecs / aliveSecs) * 1000) / 10,
    memory: status.rssBytes,
    status: STATES[stat.state] ?? stat.state,
    start_time: isoMs(startMs),
    // Kernel threads have no command line; ps shows them as [name] too.
    command: (args || `[${stat.name}]`).slice(0, MAX_COMMAND_CHARS),
  }
}

/** Every readable process, newest facts; processes that exit meanwhile are left out. */
export async function readAllProcesses(procRoot = '/proc'): Promise<ProcessInfo[]> {
  const [ctx, pids] = await Promise.all([readProcessContext(procRoot), listPids(procRoot)])
  const rows = await mapConcurrent(pids, PROC_CONCURRENCY, (pid) => readProcessInfo(pid, ctx))
  return rows.filter((row): row is ProcessInfo => row !== null)
}

/** The top `limit` processes by CPU or memory, optionally only those matching `name`. */
export async function listProcesses(options: ListProcessesOptions): Promise<ProcessInfo[]> {
  const needle = options.name?.toLowerCase()
  const rows = (await readAllProcesses(options.procRoot)).filter(
    (row) => needle === undefined || row.name.toLowerCase().includes(needle) || row.command.toLowerCase().includes(needle),
  )
  const key = options.sort === 'memory' ? (row: ProcessInfo) => row.memory : (row: ProcessInfo) => row.cpu_usage
  rows.sort((a, b) => key(b) - key(a) || a.pid - b.pid)
  return rows.slice(0, options.limit)
}
