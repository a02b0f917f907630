/**
 * agentd.db tables of the "hands" (SPEC §2.1): approvals, capability tokens and the exec rate
 * window. One migration so that features built side by side never race for a migration number.
 */
export const HANDS_MIGRATION = `
CREATE TABLE approvals (
  id TEXT PRIMARY KEY CHECK (id GLOB 'apr_*'),
  operation TEXT NOT NULL,
  daemon TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  body TEXT NOT NULL,
  digest TEXT NOT NULL CHECK (length(digest) = 64),
  summary TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  actor TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'consumed')),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  expires_ms INTEGER NOT NULL,
  decided_at TEXT,
  decided_ms INTEGER,
  decided_by TEXT,
  note TEXT,
  consumed_at TEXT
) STRICT;
CREATE INDEX approvals_status_actor ON approvals (status, actor);
CREATE INDEX approvals_digest_actor ON approvals (digest, actor, status);
CREATE TABLE capabilities (
  jti TEXT PRIMARY KEY,
  granted_to TEXT NOT NULL,
  permissions TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  expires_ms INTEGER NOT NULL,
  minted_by TEXT NOT NULL,
  revoked_at TEXT
) STRICT;
CREATE INDEX capabilities_revoked ON capabilities (revoked_at, expires_ms);
CREATE TABLE exec_rate (
  agent_id TEXT NOT NULL,
  ts_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX exec_rate_agent_ts ON exec_rate (agent_id, ts_ms);
`
