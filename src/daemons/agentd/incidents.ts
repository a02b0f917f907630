import type {z} from 'zod'
import {ConflictError, NotFoundError, UsageError} from '../../lib/errors.js'
import {createUlidGenerator, type UlidGenerator} from '../../lib/ids.js'
import type {Ledger} from '../../lib/ledger/ledger.js'
import type {Incident, IncidentCreateInput, IncidentListInput, IncidentListItem, IncidentStepInput} from './api.js'
import type {IncidentRow, IncidentStore} from './incident-store.js'

/** Dependencies of the incident service. */
export interface IncidentServiceDeps {
  store: IncidentStore
  ledger: Ledger
  now?: () => number
  ulid?: UlidGenerator
}

type IncidentOut = z.input<typeof Incident>

/**
 * Incidents: an agent opens one, records each thing it tried as a numbered step (optionally citing
 * the ledger receipt that proves it) and resolves it with a last step. Every change is ledgered
 * inside the agentd.db transaction that makes it, so a failed append rolls the change back; the
 * reverse (append committed, agentd.db commit failing) cannot be excluded across two files, but
 * leaves only an event naming a change that is absent, never an unrecorded change.
 */
export function createIncidentService(deps: IncidentServiceDeps) {
  const {store, ledger} = deps
  const now = deps.now ?? Date.now
  const ulid = deps.ulid ?? createUlidGenerator({clock: now})
  const iso = () => new Date(now()).toISOString()

  const load = (id: string): IncidentRow => {
    const row = store.getIncident(id)
    if (!row) throw new NotFoundError(`no incident ${id}`, {hint: 'list incidents with incident list (GET /incidents?status=all)'})
    return row
  }

  const withSteps = (row: IncidentRow): IncidentOut => ({
    ...row,
    steps: store.steps(row.id).map((s) => ({
      step_number: s.step_number,
      action: s.action,
      result: s.result,
      receipt_id: s.receipt_seq === null ? null : `rcpt_${s.receipt_seq}`,
      created_at: s.created_at,
    })),
  })

  const receiptSeq = (receiptId: string | undefined): number | null => {
    if (receiptId === undefined) return null
    const seq = Number(receiptId.slice('rcpt_'.length))
    // Any event may be cited (a tool.called record is evidence too); it must exist.
    if (seq > ledger.size()) {
      throw new UsageError(`no ledger event ${receiptId}: the ledger has ${ledger.size()} events`, {
        details: [`receipt_id: no such event (ledger size ${ledger.size()})`],
        hint: 'find the receipt with receipt_list or event_log and pass its id as rcpt_<seq>',
      })
    }
    return seq
  }

  return {
    create(input: z.output<typeof IncidentCreateInput>, actor: string): IncidentOut {
      const row: IncidentRow = {id: `inc_${ulid()}`, name: input.name, severity: input.severity, summary: input.summary ?? '', status: 'open', created_at: iso(), resolved_at: null}
      return store.transaction(() => {
        store.insertIncident(row)
        ledger.append({type: 'incident.created', actor, payload: {incident_id: row.id, name: row.name, severity: row.severity}})
        return withSteps(row)
      })
    },

    step(input: z.output<typeof IncidentStepInput>, actor: string): IncidentOut {
      return store.transaction(() => {
        const incident = load(input.id)
        if (incident.status === 'resolved') {
          throw new ConflictError(`incident ${input.id} is resolved and takes no more steps`, {details: {state: incident.status}, hint: 'open a new incident with incident_create'})
        }
        const seq = receiptSeq(input.receipt_id)
        const stepNumber = store.nextStepNumber(input.id)
        const at = iso()
        store.insertStep({incident_id: input.id, step_number: stepNumber, action: input.action, result: input.result, receipt_seq: seq, created_at: at})
        ledger.append({type: 'incident.step_added', actor, payload: {incident_id: input.id, step_number: stepNumber}})
        if (input.resolve) {
          store.markResolved(input.id, at)
          ledger.append({type: 'incident.resolved', actor, payload: {incident_id: input.id, step_count: stepNumber}})
        }
        return withSteps(load(input.id))
      })
    },

    get(id: string): IncidentOut {
      return withSteps(load(id))
    },

    list(input: z.output<typeof IncidentListInput>): {incidents: z.input<typeof IncidentListItem>[]; next_cursor: string | null} {
      // One row more than asked tells whether another page exists without a spurious last cursor.
      const rows = store.list({status: input.status, limit: input.limit + 1, beforeId: input.cursor})
      const page = rows.slice(0, input.limit)
      const last = page[page.length - 1]
      return {incidents: page, next_cursor: rows.length > input.limit && last ? last.id : null}
    },
  }
}

/** The incident service's interface. */
export type IncidentService = ReturnType<typeof createIncidentService>
