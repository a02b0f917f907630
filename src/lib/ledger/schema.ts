/**
 * Ledger schema migrations for `migrate()`. Every statement is IF NOT EXISTS because several
 * daemons may open a fresh ledger.db at the same moment: the loser of that race re-runs the
 * migration after the winner committed it, and must find nothing left to do.
 */
export const LEDGER_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    type TEXT NOT NULL,
    actor TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS events_type ON events(type);
  CREATE INDEX IF NOT EXISTS events_actor ON events(actor);
  CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
  CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'ledger events are append-only: UPDATE is refused'); END;
  CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'ledger events are append-only: DELETE is refused'); END;
  CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    root_hash TEXT NOT NULL,
    ts TEXT NOT NULL,
    note TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS cosignatures (
    size INTEGER NOT NULL,
    witness TEXT NOT NULL,
    key_id TEXT NOT NULL,
    cosignature TEXT NOT NULL,
    ts TEXT NOT NULL,
    PRIMARY KEY (size, witness)
  );
  `,
]
