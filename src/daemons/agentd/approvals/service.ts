import {existsSync, readFileSync} from 'node:fs'
import type {z} from 'zod'
import {ConflictError, NotFoundError, OsmodaError, UsageError} from '../../../lib/errors.js'
import {createUlidGenerator, type UlidGenerator} from '../../../lib/ids.js'
import {canonicalJson} from '../../../lib/ledger/canonical-json.js'
import type {Ledger} from '../../../lib/ledger/ledger.js'
import {sha256Hex} from '../../../lib/ledger/sha256.js'
import type {Logger} from '../../../lib/log.js'
import {writeFileAtomic} from '../../../lib/secure-file.js'
import {DEFAULT_APPROVAL_RULES, type ApprovalRule} from '../hands-config.js'
import type {Approval, ApprovalDetail, ApprovalGateInput, ApprovalRequestInput} from './api.js'
import type {ApprovalRow, ApprovalStatus, ApprovalStore} from './store.js'
import type {Gate, GateDecision, GateRequest} from './types.js'

/** The `approval.*` config keys the service reads (re-read on every call, so reloads apply at once). */
export interface ApprovalSettings {
  ttlSecs: number
  useWindowSecs: number
  maxPendingPerAgent: number
  /** Seed rules from agentd.json; operator overrides in the rules file win over them. */
  rules: Record<string, ApprovalRule>
}

/** What a tool call resolves to for `approval_request`: the request its gate will see. */
export interface ResolvedOperation {
  daemon: string
  method: string
  path: string
  body: Record<string, unknown>
}

export interface ApprovalServiceDeps {
  store: ApprovalStore
  ledger: Ledger
  settings: () => ApprovalSettings
  /** `<state>/agentd/approval-rules.json`. */
  rulesFile: string
  /** Resolves a tool call to the request it makes (throws UsageError for an unknown tool or bad arguments). */
  resolveTool: (tool: string, args: Record<string, unknown>) => ResolvedOperation | Promise<ResolvedOperation>
  /** Every operation a rule may name. */
  knownOperations: () => ReadonlySet<string> | Promise<ReadonlySet<string>>
  log: Logger
  now?: () => number
  ulid?: UlidGenerator
}

type ApprovalOut = z.input<typeof Approval>

/**
 * The digest an approval is bound to (SPEC §1.6): SHA-256 of the canonical JSON of
 * `{daemon, method, path, body}`, the body without `approval_id`.
 */
export function operationDigest(operation: ResolvedOperation): string {
  const {approval_id: _presented, ...body} = operation.body
  return sha256Hex(canonicalJson({daemon: operation.daemon, method: operation.method, path: operation.path, body}))
}

const stripApprovalId = (body: Record<string, unknown>): Record<string, unknown> => {
  const {approval_id: _presented, ...rest} = body
  return rest
}

/**
 * Approvals: the gate every agent request to change the host passes (SPEC §1.6). Only the
 * operator decides; an approval is bound to one operation digest and one agent, must be used
 * within its window, and is consumed by exactly one request. Every state change is ledgered in
 * the agentd.db transaction that makes it.
 */
export function createApprovalService(deps: ApprovalServiceDeps) {
  const {store, ledger, log} = deps
  const now = deps.now ?? Date.now
  const ulid = deps.ulid ?? createUlidGenerator({clock: now})
  const iso = (ms: number) => new Date(ms).toISOString()

  const readOverrides = (): Record<string, ApprovalRule> => {
    if (!existsSync(deps.rulesFile)) return {}
    try {
      const parsed = JSON.parse(readFileSync(deps.rulesFile, 'utf8')) as {rules?: Record<string, ApprovalRule>}
      return parsed.rules ?? {}
    } catch (error) {
      // A damaged overrides file must not silently open the gate: the defaults (which gate more) apply.
      log.error('approval-rules.json is unreadable; using the defaults and config seed', {error: String(error)})
      return {}
    }
  }
  const effectiveRules = (): Record<string, ApprovalRule> => ({...DEFAULT_APPROVAL_RULES, ...deps.settings().rules, ...readOverrides()})

  /** What the row looks like to callers: `expires_at` is the use deadline once approved. */
  const toApproval = (row: ApprovalRow): ApprovalOut => ({
    id: row.id,
    operation: row.operation,
    daemon: row.daemon,
    method: row.method,
    path: row.path,
    digest: row.digest,
    summary: row.summary,
    reason: row.reason,
    actor: row.actor,
    status: row.status,
    created_at: row.created_at,
    expires_at: row.status === 'approved' || (row.status === 'consumed' && row.decided_ms !== null) ? iso(row.decided_ms! + deps.settings().useWindowSecs * 1000) : row.expires_at,
    decided_at: row.decided_at,
    decided_by: row.decided_by,
    note: row.note,
    consumed_at: row.consumed_at,
  })

  const load = (id: string): ApprovalRow => {
    const row = store.get(id)
    if (!row) throw new NotFoundError(`no approval ${id}`, {hint: 'list them with `osmoda approval list`'})
    return row
  }

  /** Whether an approval's time is up now (pending lifetime, or the use window after approval). */
  const isPast = (row: ApprovalRow, nowMs: number): boolean =>
    (row.status === 'pending' && nowMs >= row.expires_ms) || (row.status === 'approved' && row.decided_ms !== null && nowMs >= row.decided_ms + deps.settings().useWindowSecs * 1000)

  const markExpired = (row: ApprovalRow): void => {
    if (store.expire(row.id)) ledger.append({type: 'approval.expired', actor: 'agentd', payload: {approval_id: row.id, digest: row.digest, was: row.status}})
  }

  const invalid = (reason: string, message: string, approvalId: string): OsmodaError =>
    new OsmodaError('APPROVAL_INVALID', message, {
      details: {reason, approval_id: approvalId},
      hint: reason === 'pending' ? 'wait for the operator to approve it (`osmoda approval approve <id>`), then repeat the call' : 'request a new approval for exactly this call',
    })

  /** Creates (or finds the identical) pending approval and returns it. */
  const openApproval = (operation: string, resolved: ResolvedOperation, actor: string, summary: string, reason: string, ttlSecs?: number): ApprovalRow => {
    const body = stripApprovalId(resolved.body)
    const digest = operationDigest(resolved)
    return store.transaction(() => {
      const nowMs = now()
      const existing = store.openFor(digest, actor, nowMs)
      if (existing) return existing
      const {maxPendingPerAgent, ttlSecs: defaultTtl} = deps.settings()
      if (store.pendingCount(actor, nowMs) >= maxPendingPerAgent) {
        throw new OsmodaError('RATE_LIMITED', `${actor} already has ${maxPendingPerAgent} approvals waiting for the operator`, {
          details: {retry_after_secs: 60, pending: maxPendingPerAgent},
          hint: 'wait for the operator to decide the pending ones (approval_pending lists them)',
        })
      }
      const expiresMs = nowMs + (ttlSecs ?? defaultTtl) * 1000
      const row = {
        id: `apr_${ulid()}`,
        operation,
        daemon: resolved.daemon,
        method: resolved.method,
        path: resolved.path,
        body: canonicalJson(body),
        digest,
        summary: summary.slice(0, 500),
        reason,
        actor,
        created_at: iso(nowMs),
        expires_at: iso(expiresMs),
        expires_ms: expiresMs,
      }
      store.insert(row)
      ledger.append({type: 'approval.requested', actor, payload: {approval_id: row.id, operation, digest, summary: row.summary, reason}})
      return load(row.id)
    })
  }

  const required = (row: ApprovalRow): OsmodaError =>
    new OsmodaError('APPROVAL_REQUIRED', `${row.operation} needs the operator's approval: ${row.summary}`, {
      details: {approval_id: row.id, expires_at: row.expires_at, operation: row.operation, summary: row.summary},
      hint: `ask the operator to run \`osmoda approval approve ${row.id}\`, then repeat the same call with approval_id`,
    })

  /**
   * Checks and consumes a presented approval in one transaction. A lapsed approval is marked
   * expired in that transaction and the error thrown after it commits (a throw inside would roll
   * the expiry back while its ledger event stays).
   */
  const consume = (approvalId: string, digest: string, actor: string): GateDecision => {
    const outcome = store.transaction((): GateDecision | OsmodaError => {
      const row = store.get(approvalId)
      if (!row) return invalid('unknown', `no approval ${approvalId}`, approvalId)
      if (row.actor !== actor) return invalid('actor_mismatch', `approval ${approvalId} was granted to another agent`, approvalId)
      if (row.digest !== digest) return invalid('digest_mismatch', `approval ${approvalId} was granted for a different request`, approvalId)
      const nowMs = now()
      if (isPast(row, nowMs)) {
        markExpired(row)
        return invalid('expired', `approval ${approvalId} has expired`, approvalId)
      }
      if (row.status !== 'approved') return invalid(row.status, `approval ${approvalId} is ${row.status}`, approvalId)
      if (!store.consume(row.id, iso(nowMs))) return invalid('consumed', `approval ${approvalId} was used already`, approvalId)
      ledger.append({type: 'approval.consumed', actor, payload: {approval_id: row.id, digest}})
      return {decision: 'allow', approval_id: row.id, reason: 'approved'}
    })
    if (outcome instanceof OsmodaError) throw outcome
    return outcome
  }

  /** The gate itself, shared by agentd's routes and POST /approval/gate. */
  const decide = (request: {operation: string; resolved: ResolvedOperation; role: string; actor: string; summary: string; hint?: 'required' | 'not_required'; approvalId?: string | null}): GateDecision => {
    if (request.role === 'operator') return {decision: 'allow', approval_id: null, reason: 'operator'}
    const rule = effectiveRules()[request.operation] ?? 'never'
    if (rule === 'never') return {decision: 'allow', approval_id: null, reason: 'rule_never'}
    // Under `policy` only the daemon's explicit "not required" lets a request through: no hint gates.
    if (rule === 'policy' && request.hint === 'not_required') return {decision: 'allow', approval_id: null, reason: 'not_required'}
    if (request.approvalId) return consume(request.approvalId, operationDigest(request.resolved), request.actor)
    throw required(openApproval(request.operation, request.resolved, request.actor, request.summary, ''))
  }

  const gate: Gate = {
    check: (request: GateRequest) =>
      decide({
        operation: request.operation,
        resolved: {daemon: 'agentd', method: request.method, path: request.path, body: request.body},
        role: request.ctx.role,
        actor: request.ctx.actor,
        summary: request.summary,
        hint: request.hint,
        approvalId: request.approvalId ?? (typeof request.body.approval_id === 'string' ? request.body.approval_id : null),
      }),
  }

  const decideAs = (status: 'approved' | 'denied', id: string, note: string | undefined, decidedBy: string): ApprovalOut => {
    const outcome = store.transaction((): ApprovalOut | OsmodaError => {
      const row = load(id)
      const nowMs = now()
      if (row.status === 'pending' && nowMs >= row.expires_ms) {
        markExpired(row)
        return new OsmodaError('PRECONDITION_FAILED', `approval ${id} expired at ${row.expires_at} before it was decided`, {
          details: {state: 'expired'},
          hint: 'the agent must request it again',
        })
      }
      if (row.status !== 'pending') return new ConflictError(`approval ${id} is ${row.status}, not pending`, {details: {state: row.status}})
      store.decide({id, status, decided_at: iso(nowMs), decided_ms: nowMs, decided_by: decidedBy, note: note ?? null})
      ledger.append({type: status === 'approved' ? 'approval.approved' : 'approval.denied', actor: decidedBy, payload: {approval_id: id, digest: row.digest, note: note ?? null}})
      return toApproval(load(id))
    })
    if (outcome instanceof OsmodaError) throw outcome
    return outcome
  }

  /** Marks lapsed approvals expired; returns how many. */
  const sweep = (): number => {
    const nowMs = now()
    const due = store.dueToExpire(nowMs, nowMs - deps.settings().useWindowSecs * 1000)
    if (due.length) store.transaction(() => due.forEach(markExpired))
    return due.length
  }

  return {
    gate,

    /** POST /approval/gate: another daemon's agent request. */
    gateRoute(input: z.output<typeof ApprovalGateInput>): GateDecision {
      return decide({
        operation: input.operation,
        resolved: {daemon: input.daemon, method: input.method, path: input.path, body: input.body},
        role: 'agent',
        actor: input.actor,
        summary: input.summary,
        hint: input.hint,
        approvalId: input.approval_id,
      })
    },

    /** POST /approval/request: the agent asks up front; resolves the tool call to the digest its gate will check. */
    async request(input: z.output<typeof ApprovalRequestInput>, ctx: {actor: string; role: string}): Promise<ApprovalOut> {
      const tool = input.command !== undefined ? 'shell_exec' : input.tool
      const args = input.command !== undefined ? {...input.arguments, command: input.command, mode: 'host'} : input.arguments
      if (ctx.role !== 'agent') throw new UsageError('approvals are requested by agents; an operator runs the call directly', {details: ['role: agent only'], hint: 'run the command yourself'})
      const resolved = await deps.resolveTool(tool, args)
      const summary = tool === 'shell_exec' && typeof resolved.body.command === 'string' ? `${tool}: ${resolved.body.command}` : `${tool} ${canonicalJson(stripApprovalId(resolved.body)).slice(0, 400)}`
      return toApproval(openApproval(tool, resolved, ctx.actor, summary, input.reason, input.ttl_secs))
    },

    pending(): {approvals: ApprovalOut[]} {
      return {approvals: store.pending(now()).map(toApproval)}
    },

    list(input: {status: ApprovalStatus | 'all'; limit: number; cursor?: string}): {approvals: ApprovalOut[]; next_cursor: string | null} {
      const rows = store.list({status: input.status === 'all' ? undefined : input.status, cursor: input.cursor, limit: input.limit + 1})
      const page = rows.slice(0, input.limit)
      return {approvals: page.map(toApproval), next_cursor: rows.length > input.limit ? (page[page.length - 1]?.id ?? null) : null}
    },

    get(id: string): z.input<typeof ApprovalDetail> {
      const row = load(id)
      return {...toApproval(row), body: JSON.parse(row.body) as Record<string, unknown>}
    },

    approve: (id: string, note: string | undefined, decidedBy: string) => decideAs('approved', id, note, decidedBy),
    deny: (id: string, note: string | undefined, decidedBy: string) => decideAs('denied', id, note, decidedBy),

    rules(): {rules: Record<string, ApprovalRule>} {
      return {rules: effectiveRules()}
    },

    /** PUT /approval/rules: replaces the operator's overrides; returns the effective rules. */
    async setRules(rules: Record<string, ApprovalRule>, actor: string): Promise<{rules: Record<string, ApprovalRule>}> {
      const known = await deps.knownOperations()
      const unknown = Object.keys(rules).filter((op) => !known.has(op))
      if (unknown.length) {
        throw new UsageError(`unknown operation ${unknown.join(', ')}`, {details: unknown.map((op) => `rules.${op}: no such operation`), hint: 'operations are tool names, see GET /approval/rules'})
      }
      writeFileAtomic(deps.rulesFile, `${JSON.stringify({rules}, null, 2)}\n`, 0o600)
      const effective = effectiveRules()
      ledger.append({type: 'approval.rules_changed', actor, payload: {sha256: sha256Hex(canonicalJson(effective)), overrides: rules}})
      return {rules: effective}
    },

    sweep,

    /** Runs the sweeper every `sweepSecs` (re-read each round) until `signal` aborts. */
    start(sweepSecs: () => number, signal: AbortSignal): void {
      let timer: NodeJS.Timeout | undefined
      const schedule = () => {
        timer = setTimeout(() => {
          try {
            sweep()
          } catch (error) {
            log.error('approval sweep failed', {error: String(error)})
          }
          if (!signal.aborted) schedule()
        }, sweepSecs() * 1000)
        timer.unref()
      }
      signal.addEventListener('abort', () => clearTimeout(timer), {once: true})
      schedule()
    },
  }
}

export type ApprovalService = ReturnType<typeof createApprovalService>
