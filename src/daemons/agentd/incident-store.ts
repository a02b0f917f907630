import type {Db} from '../../lib/db/open.js'

/**
 * Incidents and their numbered steps in agentd.db. Triggers keep step numbers contiguous per
 * incident and refuse steps on a resolved incident even if a caller skips the service's checks.
 */
export const INCIDENTS_MIGRATION = `
CREATE TABLE incidents (
  id TEXT PRIMARY KEY CHECK (id GLOB 'inc_*'),
  name TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  summary TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  created_at TEXT NOT NULL,
  resolved_at TEXT,
  CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
) STRICT;
CREATE INDEX incidents_status_id ON incidents (status, id);
CREATE TABLE incident_steps (
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  step_number INTEGER NOT NULL CHECK (step_number >= 1),
  action TEXT NOT NULL,
  result TEXT NOT NULL,
  receipt_seq INTEGER CHECK (receipt_seq IS NULL OR receipt_seq >= 1),
  created_at TEXT NOT NULL,
  PRIMARY KEY (incident_id, step_number)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER incident_steps_contiguous BEFORE INSERT ON incident_steps
WHEN NEW.step_number <> (SELECT coalesce(max(step_number), 0) + 1 FROM incident_steps WHERE incident_id = NEW.incident_id)
BEGIN SELECT RAISE(ABORT, 'incident step numbers must be contiguous'); END;
CREATE TRIGGER incident_steps_open_only BEFORE INSERT ON incident_steps
WHEN (SELECT status FROM incidents WHERE id = NEW.incident_id) = 'resolved'
BEGIN SELECT RAISE(ABORT, 'incident is resolved'); END;
`

/** An incidents row. */
export interface IncidentRow {
  id: string
  name: string
  severity: 'low' | 'medium' | 'high' | 'critical'
  summary: string
  status: 'open' | 'resolved'
  created_at: string
  resolved_at: string | null
}

/** An incident_steps row. */
export interface IncidentStepRow {
  incident_id: string
  step_number: number
  action: string
  result: string
  receipt_seq: number | null
  created_at: string
}

/** A list entry: the incident row plus its number of steps. */
export type IncidentListRow = IncidentRow & {step_count: number}

/** A page request: `beforeId` is the exclusive cursor (ids sort by creation time). */
export interface IncidentListQuery {
  status: 'open' | 'resolved' | 'all'
  limit: number
  beforeId?: string
}

/** SQL for incidents; no rules beyond what the schema enforces (those live in the service). */
export interface IncidentStore {
  insertIncident(row: IncidentRow): void
  getIncident(id: string): IncidentRow | undefined
  steps(incidentId: string): IncidentStepRow[]
  /** The number the next step of this incident gets. */
  nextStepNumber(incidentId: string): number
  insertStep(row: IncidentStepRow): void
  markResolved(id: string, resolvedAt: string): void
  list(query: IncidentListQuery): IncidentListRow[]
  /** Runs fn in one BEGIN IMMEDIATE transaction of agentd.db; a throw rolls everything back. */
  transaction<T>(fn: () => T): T
}

const COLUMNS = 'id, name, severity, summary, status, created_at, resolved_at'
const LIST_COLUMNS = `${COLUMNS}, (SELECT count(*) FROM incident_steps s WHERE s.incident_id = i.id) AS step_count`

/** Prepares the incident statements on agentd's database. */
export function createIncidentStore(db: Db): IncidentStore {
  const insertIncident = db.prepare<IncidentRow>(`INSERT INTO incidents (${COLUMNS}) VALUES (@id, @name, @severity, @summary, @status, @created_at, @resolved_at)`)
  const getIncident = db.prepare<[string], IncidentRow>(`SELECT ${COLUMNS} FROM incidents WHERE id = ?`)
  const steps = db.prepare<[string], IncidentStepRow>('SELECT incident_id, step_number, action, result, receipt_seq, created_at FROM incident_steps WHERE incident_id = ? ORDER BY step_number')
  const nextStep = db.prepare<[string], number>('SELECT coalesce(max(step_number), 0) + 1 FROM incident_steps WHERE incident_id = ?').pluck()
  const insertStep = db.prepare<IncidentStepRow>(
    'INSERT INTO incident_steps (incident_id, step_number, action, result, receipt_seq, created_at) VALUES (@incident_id, @step_number, @action, @result, @receipt_seq, @created_at)',
  )
  const markResolved = db.prepare<[string, string]>("UPDATE incidents SET status = 'resolved', resolved_at = ? WHERE id = ? AND status = 'open'")
  const listAll = db.prepare<[string, number], IncidentListRow>(`SELECT ${LIST_COLUMNS} FROM incidents i WHERE id < ? ORDER BY id DESC LIMIT ?`)
  const listByStatus = db.prepare<[string, string, number], IncidentListRow>(`SELECT ${LIST_COLUMNS} FROM incidents i WHERE status = ? AND id < ? ORDER BY id DESC LIMIT ?`)

  // Every id is 'inc_' + 26 base32 characters, all of which sort below '~'.
  const TOP = 'inc_~'

  return {
    insertIncident: (row) => void insertIncident.run(row),
    getIncident: (id) => getIncident.get(id),
    steps: (incidentId) => steps.all(incidentId),
    nextStepNumber: (incidentId) => nextStep.get(incidentId) ?? 1,
    insertStep: (row) => void insertStep.run(row),
    markResolved: (id, resolvedAt) => void markResolved.run(resolvedAt, id),
    list: (q) => (q.status === 'all' ? listAll.all(q.beforeId ?? TOP, q.limit) : listByStatus.all(q.status, q.beforeId ?? TOP, q.limit)),
    transaction: (fn) => db.transaction(fn).immediate(),
  }
}
