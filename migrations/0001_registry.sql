-- The tenant registry (D1, binding DB): tenants, their SDK keys and an audit log of every change.
-- Times are Unix milliseconds. Keys are stored as the SHA-256 of the whole key, never the key.

CREATE TABLE tenants (
  tenant_id TEXT PRIMARY KEY NOT NULL,
  name TEXT,
  -- Only the settings the tenant set, as a JSON object; the vars give the rest.
  settings TEXT NOT NULL DEFAULT '{}',
  disabled INTEGER NOT NULL DEFAULT 0,
  -- Bumped by every update, which applies only to the version it read: no lost update.
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Authentication finds a key by its primary key, key_id: one indexed lookup.
CREATE TABLE api_keys (
  key_id TEXT PRIMARY KEY NOT NULL,
  tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
  secret_hash TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
  label TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER,
  last_used_at INTEGER
) WITHOUT ROWID;

-- A tenant's keys, newest first, paged by (created_at, key_id).
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at, key_id);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  actor_type TEXT NOT NULL CHECK (actor_type IN ('admin', 'key')),
  actor_id TEXT NOT NULL,
  action TEXT NOT NULL,
  key_id TEXT,
  details TEXT NOT NULL DEFAULT '{}',
  request_id TEXT NOT NULL
);

-- One tenant's entries, newest first, paged by id.
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);
