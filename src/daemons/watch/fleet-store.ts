import type {Db} from '../../lib/db/open.js'
import type {FleetPhase, FleetProposal} from './fleet-api.js'
import {pageJsonRows} from '../../lib/db/page.js'

/** Fleet proposals (appended to WATCH_MIGRATIONS in store.ts). */
export const FLEET_MIGRATION = `
CREATE TABLE fleet_proposals (
  id TEXT PRIMARY KEY,
  phase TEXT NOT NULL,
  proposal TEXT NOT NULL,
  private TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX fleet_proposals_phase ON fleet_proposals(phase, id);
`

/** What the state machine keeps about a proposal but never returns (epoch ms). */
export interface FleetPrivate {
  /** Voting ends here (created_at + timeout_secs). */
  voting_ends_at?: number
  /** Per peer: a `fleet_result` must arrive before this, else the fleet rolls back. */
  result_due?: Record<string, number>
}

/** SQL for proposals; every write is one transaction (synchronous=FULL: fsynced at commit). */
export function createFleetStore(db: Db) {
  const insert = db.prepare('INSERT INTO fleet_proposals (id, phase, proposal, private) VALUES (?, ?, ?, ?)')
  const update = db.prepare('UPDATE fleet_proposals SET phase = ?, proposal = ?, private = ? WHERE id = ?')
  const byId = db.prepare<[string], {proposal: string; private: string}>('SELECT proposal, private FROM fleet_proposals WHERE id = ?')
  const open = db.prepare<[], {id: string}>("SELECT id FROM fleet_proposals WHERE phase IN ('voting', 'executing') ORDER BY id")

  return {
    insert(proposal: FleetProposal, secret: FleetPrivate): void {
      insert.run(proposal.id, proposal.phase, JSON.stringify(proposal), JSON.stringify(secret))
    },
    save(proposal: FleetProposal, secret: FleetPrivate): void {
      update.run(proposal.phase, JSON.stringify(proposal), JSON.stringify(secret), proposal.id)
    },
    get(id: string): {proposal: FleetProposal; secret: FleetPrivate} | null {
      const row = byId.get(id)
      return row ? {proposal: JSON.parse(row.proposal) as FleetProposal, secret: JSON.parse(row.private) as FleetPrivate} : null
    },
    /** Ids of proposals still voting or executing. */
    openIds: (): string[] => open.all().map((r) => r.id),
    /** Newest first; `cursor` is the last id of the previous page. */
    list(filter: {phase?: FleetPhase; limit: number; cursor?: string}): {proposals: FleetProposal[]; next_cursor: string | null} {
      const page = pageJsonRows<FleetProposal>(db, {table: 'fleet_proposals', column: 'proposal', filter: {phase: filter.phase}, cursor: filter.cursor, limit: filter.limit})
      return {proposals: page.items, next_cursor: page.next_cursor}
    },
  }
}

/** The fleet store. */
export type FleetStore = ReturnType<typeof createFleetStore>
