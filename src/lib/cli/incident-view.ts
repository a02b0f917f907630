import type {z} from 'zod'
import type {Incident} from '../../daemons/agentd/api.js'
import {renderTable} from './table.js'

/** An incident as the CLI prints it for humans: a header line, the summary and the step table. */
export function renderIncident(incident: z.output<typeof Incident>): string {
  const state = incident.status === 'resolved' ? `resolved ${incident.resolved_at}` : 'open'
  const lines = [`${incident.id}  ${incident.severity}  ${state}  ${incident.name}`, `created ${incident.created_at}`]
  if (incident.summary) lines.push(incident.summary)
  lines.push(incident.steps.length ? renderTable(incident.steps, ['step_number', 'created_at', 'action', 'result', 'receipt_id']) : '(no steps yet)')
  return lines.join('\n')
}
