-- Stores: where a tenant's sessions happen (issue 22). Keyed by the tenant, so a tenant's stores
-- page off the primary key in id order; no FOREIGN KEY to tenants, since static (SDK_KEYS) tenants
-- have stores too and no tenants row.
CREATE TABLE stores (
  tenant_id TEXT NOT NULL,
  store_id TEXT NOT NULL,
  name TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  country TEXT,
  -- A JSON array of strings (at most 10), '[]' when none.
  tags TEXT NOT NULL DEFAULT '[]',
  capacity INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, store_id)
) WITHOUT ROWID;

-- A key bound to a store: its starts are in that store unless they name none (then this one), and
-- naming another is refused. NULL: any store.
ALTER TABLE api_keys ADD COLUMN store_id TEXT;

-- Never holds a row: a change whose batch would break a registry-wide bound (e.g. stores per
-- tenant) ends with an INSERT here that fails this CHECK, so D1 rolls the whole batch back.
CREATE TABLE bound_breaches (bound TEXT NOT NULL, CONSTRAINT registry_bound_breached CHECK (0));
