// sessions.json (SPEC §2.10 "Sessions"): which runtime session each conversation resumes. Kept in
// memory, written atomically (temp, fsync, rename, dir fsync) at most every 250 ms and on shutdown,
// so a kill -9 leaves the previous complete file or the new one, never half of one.
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {z} from 'zod'
import {createIdGenerator} from '../../lib/ids.js'
import {writeFileAtomic} from '../../lib/secure-file.js'
import type {RuntimeName} from './runtime/types.js'

export const SessionRecord = z.strictObject({
  id: z.string().regex(/^ses_[0-9A-HJKMNP-TV-Z]{26}$/),
  key: z.string().min(1).max(512),
  agent_id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  runtime: z.enum(['claude-code', 'openclaw']),
  runtime_session_id: z.string().min(1).max(512).nullable(),
  workspace_dir: z.string().min(1),
  created_at: z.string(),
  last_activity_at: z.string(),
  quarantined: z.boolean(),
})
export type SessionRecord = z.infer<typeof SessionRecord>

const SessionsFile = z.strictObject({version: z.literal(1), sessions: z.array(SessionRecord)})

/** `agent`: one conversation per agent across channels; `channel_user`: one per channel user. */
export type SessionScope = 'agent' | 'channel_user'

/** The session key for a message (SPEC: `agent:<agent_id>` or `<agent_id>:<channel>:<user>`). */
export function sessionKey(scope: SessionScope, agentId: string, channel: string, user: string): string {
  return scope === 'agent' ? `agent:${agentId}` : `${agentId}:${channel}:${user}`
}

/** A sessions.json that could not be read: moved aside (never overwritten), the store starts empty. */
export interface SessionsLoadProblem {
  code: 'SESSIONS_CORRUPT'
  message: string
  moved_to: string
}

export interface SessionStoreOptions {
  file: string
  debounceMs?: number
  /** Sessions idle longer than this are dropped at load and by prune(); default 30 days. */
  ttlDays?: number
  clock?: () => number
  /** Called when a debounced write fails (the store stays dirty and retries on the next change or flush). */
  onWriteError?: (error: Error) => void
}

/** The sessions of every agent, persisted to sessions.json. One instance per gateway (single writer). */
export class SessionStore {
  readonly loadProblem: SessionsLoadProblem | null
  private readonly sessions = new Map<string, SessionRecord>()
  private readonly byKey = new Map<string, string>()
  private readonly debounceMs: number
  private readonly ttlMs: number
  private readonly clock: () => number
  private readonly newId: (prefix: string) => string
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private dirty = false

  constructor(private readonly options: SessionStoreOptions) {
    this.debounceMs = options.debounceMs ?? 250
    this.ttlMs = (options.ttlDays ?? 30) * 86_400_000
    this.clock = options.clock ?? Date.now
    this.newId = createIdGenerator({clock: this.clock})
    this.loadProblem = this.load()
    this.prune()
  }

  list(): SessionRecord[] {
    return [...this.sessions.values()].map((s) => ({...s}))
  }

  get(id: string): SessionRecord | null {
    const session = this.sessions.get(id)
    return session ? {...session} : null
  }

  getByKey(key: string): SessionRecord | null {
    const id = this.byKey.get(key)
    return id === undefined ? null : this.get(id)
  }

  /**
   * The session for `key`, created when absent. A session whose runtime or workspace differs from
   * the agent's current one loses its runtime session id: the next message starts cleanly.
   */
  resolve(input: {key: string; agentId: string; runtime: RuntimeName; workspaceDir: string}): SessionRecord {
    const now = this.now()
    const existing = this.byKey.get(input.key)
    if (existing !== undefined) {
      const session = this.sessions.get(existing) as SessionRecord
      if (session.runtime !== input.runtime || session.workspace_dir !== input.workspaceDir || session.agent_id !== input.agentId) {
        session.runtime = input.runtime
        session.workspace_dir = input.workspaceDir
        session.agent_id = input.agentId
        session.runtime_session_id = null
        this.changed()
      }
      return {...session}
    }
    const session: SessionRecord = {
      id: this.newId('ses'),
      key: input.key,
      agent_id: input.agentId,
      runtime: input.runtime,
      runtime_session_id: null,
      workspace_dir: input.workspaceDir,
      created_at: now,
      last_activity_at: now,
      quarantined: false,
    }
    this.sessions.set(session.id, session)
    this.byKey.set(session.key, session.id)
    this.changed()
    return {...session}
  }

  /** The runtime session id a run may resume: null when none, or when the session is quarantined. */
  resumableRuntimeSession(id: string): string | null {
    const session = this.sessions.get(id)
    if (!session || session.quarantined) return null
    return session.runtime_session_id
  }

  /** Records the runtime's session id (from a `session` frame); a fresh id lifts a quarantine. */
  setRuntimeSessionId(id: string, runtimeSessionId: string, runtime: RuntimeName): void {
    const session = this.mustGet(id)
    // A frame from a run of the agent's previous runtime must not tag the session with a foreign id.
    if (session.runtime !== runtime) return
    if (session.runtime_session_id === runtimeSessionId && !session.quarantined) return
    session.runtime_session_id = runtimeSessionId
    session.quarantined = false
    session.last_activity_at = this.now()
    this.changed()
  }

  touch(id: string): void {
    const session = this.mustGet(id)
    session.last_activity_at = this.now()
    this.changed()
  }

  /** The runtime session that caused a wedge is never resumed again (no death spiral). */
  quarantine(id: string): void {
    const session = this.mustGet(id)
    session.quarantined = true
    session.runtime_session_id = null
    this.changed()
  }

  /** Drops the runtime session (DELETE /sessions/{id}, `/new`); the record and its history stay. */
  reset(id: string): boolean {
    const session = this.sessions.get(id)
    if (!session) return false
    session.runtime_session_id = null
    session.quarantined = false
    session.last_activity_at = this.now()
    this.changed()
    return true
  }

  /** Drops sessions idle longer than the TTL; returns their ids. */
  prune(): string[] {
    const cutoff = this.clock() - this.ttlMs
    const dropped: string[] = []
    for (const session of this.sessions.values()) {
      if (Date.parse(session.last_activity_at) < cutoff) dropped.push(session.id)
    }
    for (const id of dropped) {
      const session = this.sessions.get(id) as SessionRecord
      this.sessions.delete(id)
      this.byKey.delete(session.key)
    }
    if (dropped.length > 0) this.changed()
    return dropped
  }

  /** Writes now if anything changed since the last write. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (!this.dirty) return
    const body = {version: 1 as const, sessions: [...this.sessions.values()]}
    mkdirSync(dirname(this.options.file), {recursive: true, mode: 0o700})
    writeFileAtomic(this.options.file, `${JSON.stringify(body, null, 2)}\n`, 0o600)
    this.dirty = false
  }

  /** Flushes and stops the debounce timer (gateway shutdown). */
  close(): void {
    this.flush()
    this.closed = true
  }

  private changed(): void {
    this.dirty = true
    if (this.closed) {
      this.flush()
      return
    }
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = null
      try {
        this.flush()
      } catch (error) {
        this.options.onWriteError?.(error as Error)
      }
    }, this.debounceMs)
    this.timer.unref()
  }

  private mustGet(id: string): SessionRecord {
    const session = this.sessions.get(id)
    if (!session) throw new Error(`unknown session ${id}`)
    return session
  }

  private now(): string {
    return new Date(this.clock()).toISOString()
  }

  private load(): SessionsLoadProblem | null {
    const file = this.options.file
    removeStaleTemps(file)
    if (!existsSync(file)) return null
    let problem: string
    try {
      const parsed = SessionsFile.safeParse(JSON.parse(readFileSync(file, 'utf8')))
      if (parsed.success) {
        for (const session of parsed.data.sessions) {
          this.sessions.set(session.id, session)
          this.byKey.set(session.key, session.id)
        }
        return null
      }
      problem = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).slice(0, 5).join('; ')
    } catch (error) {
      problem = (error as Error).message
    }
    const movedTo = `${file}.corrupt-${new Date(this.clock()).toISOString().replace(/[:.]/g, '-')}`
    renameSync(file, movedTo)
    return {code: 'SESSIONS_CORRUPT', message: `${file} could not be read (${problem}); it was moved to ${movedTo} and sessions start empty`, moved_to: movedTo}
  }
}

/** Temp files a killed writer left beside sessions.json (writeFileAtomic's `.<name>.osmoda-*`). */
function removeStaleTemps(file: string): void {
  const dir = dirname(file)
  const prefix = `.${basename(file)}.osmoda-`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    try {
      unlinkSync(join(dir, name))
    } catch {
      // Another process's problem; not ours to fail over.
    }
  }
}
