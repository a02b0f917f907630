import {OsmodaError} from '../../../lib/errors.js'
import type {Action} from '../api.js'
import type {ActionContext, ActionOutcome} from './context.js'

type Of<T extends Action['type']> = Extract<Action, {type: T}>

const pct = (part: number, whole: number): number => (whole > 0 ? Math.round((1000 * part) / whole) / 10 : 0)

/** health_check: agentd GET /health against thresholds; a finding → `notification.requested`. */
export async function healthCheck(action: Of<'health_check'>, ctx: ActionContext): Promise<ActionOutcome> {
  const t = {cpu_pct: 90, cpu_consecutive: 3, memory_pct: 85, disk_pct: 90, load_per_core: 2, ...action.thresholds}
  const health = await ctx.agentd.health(undefined, {signal: ctx.signal})
  const cpu = health.cpu_usage.length ? Math.round(health.cpu_usage.reduce((a, b) => a + b, 0) / health.cpu_usage.length) : 0
  const streak = cpu > t.cpu_pct ? Number(ctx.memo.get('cpu_streak') ?? '0') + 1 : 0
  ctx.memo.set('cpu_streak', String(streak))
  const memory = pct(health.memory_total - health.memory_available, health.memory_total)
  const loadLimit = t.load_per_core * Math.max(1, health.cpu_count)
  const findings: string[] = []
  if (streak >= t.cpu_consecutive) findings.push(`CPU ${cpu}% > ${t.cpu_pct}% for ${streak} consecutive checks`)
  if (memory > t.memory_pct) findings.push(`memory ${memory}% used > ${t.memory_pct}%`)
  const disks = health.disks.map((d) => ({mount_point: d.mount_point, used_pct: pct(d.used, d.used + d.available || d.total)}))
  for (const disk of disks) if (disk.used_pct > t.disk_pct) findings.push(`disk ${disk.mount_point} ${disk.used_pct}% full > ${t.disk_pct}%`)
  if (health.load_average.one > loadLimit) findings.push(`load ${health.load_average.one.toFixed(2)} > ${loadLimit} (${t.load_per_core} × ${health.cpu_count} cores)`)
  if (findings.length) ctx.notify(findings.length > 1 ? 'critical' : 'warning', `${health.hostname}: health thresholds exceeded`, findings.join('; '))
  return {
    status: 'ok',
    output: {hostname: health.hostname, status: health.status, cpu_pct: cpu, cpu_streak: streak, memory_pct: memory, load_one: health.load_average.one, load_limit: loadLimit, disks, thresholds: t, findings},
  }
}

/** service_monitor: each unit's state via agentd GET /service/status; without systemd every unit is `unknown`. */
export async function serviceMonitor(action: Of<'service_monitor'>, ctx: ActionContext): Promise<ActionOutcome> {
  const units: {unit: string; state: string; detail: string | null}[] = []
  for (const unit of action.units) {
    try {
      const status = await ctx.agentd.serviceStatus({unit}, {signal: ctx.signal})
      units.push({unit: status.unit ?? unit, state: status.active_state ?? 'unknown', detail: status.sub_state ?? null})
    } catch (error) {
      const code = (error as OsmodaError).code
      if (code !== 'SYSTEMD_UNAVAILABLE' && code !== 'NOT_FOUND' && code !== 'UPSTREAM_FAILED') throw error
      units.push({unit, state: 'unknown', detail: code === 'SYSTEMD_UNAVAILABLE' ? 'systemd is not PID 1 on this host: unit state unavailable' : (error as Error).message})
    }
  }
  const failed = units.filter((u) => u.state === 'failed' || u.state === 'inactive')
  if (failed.length) ctx.notify('warning', 'services not running', failed.map((u) => `${u.unit} is ${u.state}`).join('; '))
  const systemd = !units.some((u) => u.detail?.startsWith('systemd is not PID 1'))
  return {status: 'ok', output: {systemd: systemd ? 'available' : 'unavailable', units, not_running: failed.map((u) => u.unit)}}
}

/** log_scan: journal entries at `priority` or worse since the previous run; identifiers looked up in memory. */
export async function logScan(action: Of<'log_scan'>, ctx: ActionContext): Promise<ActionOutcome> {
  const startedAt = new Date(ctx.now()).toISOString()
  const since = ctx.memo.get('journal_since') ?? '1h'
  let page
  try {
    page = await ctx.agentd.journalLogs({priority: action.priority, since, lines: 1000}, {signal: ctx.signal})
  } catch (error) {
    const code = (error as OsmodaError).code
    if (code === 'SYSTEMD_UNAVAILABLE' || code === 'UPSTREAM_FAILED') {
      return {status: 'ok', output: {journal: 'unavailable', reason: (error as Error).message, since, entries: 0}}
    }
    throw error
  }
  ctx.memo.set('journal_since', startedAt)
  const byIdentifier = new Map<string, number>()
  for (const entry of page.entries) {
    const id = entry.identifier ?? entry.unit ?? 'unknown'
    byIdentifier.set(id, (byIdentifier.get(id) ?? 0) + 1)
  }
  const top = [...byIdentifier.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)
  const known: Record<string, string[]> = {}
  for (const [identifier] of top) {
    const recall = await ctx.agentd.memoryRecall({query: identifier, max_results: 3}, {signal: ctx.signal}).catch(() => null)
    if (recall?.memories.length) known[identifier] = recall.memories.map((m) => m.id)
  }
  if (page.entries.length) ctx.notify('warning', `${page.entries.length} journal entries at ${action.priority} or worse`, top.map(([id, n]) => `${id} ×${n}`).join(', '))
  return {
    status: 'ok',
    output: {journal: 'available', since, entries: page.entries.length, truncated: page.truncated, by_identifier: Object.fromEntries(top), related_memories: known, latest: page.entries.slice(-5).map((e) => `${e.ts} ${e.identifier ?? ''}: ${e.message.slice(0, 200)}`)},
  }
}

/** network_watch: listening ports via agentd GET /network/info against a first-run baseline (or expected_ports). */
export async function networkWatch(action: Of<'network_watch'>, ctx: ActionContext): Promise<ActionOutcome> {
  const info = await ctx.agentd.networkInfo({detail: 'ports'}, {signal: ctx.signal})
  const listening = [...new Set((info.ports ?? []).map((p) => `${p.proto}/${p.port}`))].sort()
  let baseline: string[]
  let source: 'expected_ports' | 'baseline' | 'recorded_now'
  if (action.expected_ports) {
    baseline = [...new Set(action.expected_ports.map((port) => `tcp/${port}`))].sort()
    source = 'expected_ports'
  } else {
    const stored = ctx.memo.get('port_baseline')
    source = stored ? 'baseline' : 'recorded_now'
    baseline = stored ? (JSON.parse(stored) as string[]) : listening
    if (!stored) ctx.memo.set('port_baseline', JSON.stringify(listening))
  }
  const opened = listening.filter((p) => !baseline.includes(p) && !(source === 'expected_ports' && p.startsWith('udp/')))
  const closed = baseline.filter((p) => !listening.includes(p))
  if (opened.length || closed.length) {
    ctx.notify('warning', 'listening ports changed', [opened.length ? `new: ${opened.join(', ')}` : '', closed.length ? `gone: ${closed.join(', ')}` : ''].filter(Boolean).join('; '))
  }
  return {status: 'ok', output: {source, listening, baseline, new_ports: opened, missing_ports: closed}}
}

const HOUR_MS = 3_600_000

/** memory_maintenance: the last hour of ledger events summarised into one `maintenance` memory. */
export async function memoryMaintenance(ctx: ActionContext): Promise<ActionOutcome> {
  const since = ctx.now() - HOUR_MS
  const counts = new Map<string, number>()
  let failures = 0
  let approvals = 0
  let switches = 0
  let total = 0
  let before: number | undefined
  // Newest first, page by page, until an event older than an hour.
  for (let pages = 0; pages < 100; pages++) {
    const page = await ctx.agentd.eventsLog({limit: 1000, before, order: 'desc', follow: false}, {signal: ctx.signal})
    let done = page.events.length === 0
    for (const event of page.events) {
      if (Date.parse(event.ts) < since) {
        done = true
        break
      }
      total++
      counts.set(event.type, (counts.get(event.type) ?? 0) + 1)
      if (/(failed|error|rolled_back|denied)/.test(event.type) || event.payload.outcome === 'error' || event.payload.status === 'error') failures++
      if (event.type.startsWith('approval.')) approvals++
      if (event.type.startsWith('switch.')) switches++
      before = event.seq
    }
    if (done || page.events.length < 1000) break
  }
  const byType = Object.fromEntries([...counts.entries()].sort((a, b) => b[1] - a[1]))
  const top = Object.entries(byType).slice(0, 8).map(([type, n]) => `${type} ×${n}`).join(', ')
  const summary = `Last hour: ${total} ledger events, ${failures} failures, ${approvals} approval events, ${switches} switch events${top ? ` (${top})` : ''}`
  const memory = await ctx.agentd.memoryIngest(
    {summary: summary.slice(0, 2000), detail: JSON.stringify({since: new Date(since).toISOString(), counts: byType}, null, 2), category: 'maintenance', source: 'routines', tags: ['routine', 'hourly-summary'], metadata: {routine_id: ctx.routineId, events: total, failures, approvals, switches}},
    {signal: ctx.signal},
  )
  return {status: 'ok', output: {memory_id: memory.id, events: total, failures, approvals, switches, counts: byType}}
}
