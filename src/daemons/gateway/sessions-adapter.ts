import {createIdGenerator} from '../../lib/ids.js'
import type {Logger} from '../../lib/log.js'
import type {SessionRecord, SessionsPort} from './chat-service.js'

interface Session extends SessionRecord {
  created_at: string
  last_activity_at: string
}

/**
 * The chat engine's view of the sessions. Until the persistent SessionStore (sessions.json, the
 * runtime work) is merged this keeps them in memory only: conversations do not survive a restart.
 */
export function createSessionsAdapter(_options: {file: string; log: Logger}): Omit<SessionsPort, 'byKey'> & {
  byKey(key: string): Session | null
  list(): Session[]
  get(id: string): Session | null
  reset(id: string, actor: string): void
  flush(): void
} {
  const newId = createIdGenerator()
  const sessions = new Map<string, Session>()
  const now = () => new Date().toISOString()
  const byKey = (key: string) => [...sessions.values()].find((s) => s.key === key) ?? null
  return {
    resolve({key, agentId, runtime, workspaceDir}) {
      let session = byKey(key)
      if (!session) {
        session = {id: newId('ses'), key, agent_id: agentId, runtime, runtime_session_id: null, workspace_dir: workspaceDir, quarantined: false, created_at: now(), last_activity_at: now()}
        sessions.set(session.id, session)
      }
      if (session.runtime !== runtime || session.workspace_dir !== workspaceDir) Object.assign(session, {runtime, workspace_dir: workspaceDir, runtime_session_id: null})
      return session
    },
    setRuntimeSession(id, runtimeSessionId) {
      const s = sessions.get(id)
      if (s) Object.assign(s, {runtime_session_id: runtimeSessionId, quarantined: false})
    },
    touch(id) {
      const s = sessions.get(id)
      if (s) s.last_activity_at = now()
    },
    quarantine(id) {
      const s = sessions.get(id)
      if (s) Object.assign(s, {runtime_session_id: null, quarantined: true})
    },
    byKey,
    list: () => [...sessions.values()],
    get: (id) => sessions.get(id) ?? null,
    reset(id) {
      const s = sessions.get(id)
      if (s) s.runtime_session_id = null
    },
    flush() {},
  }
}
