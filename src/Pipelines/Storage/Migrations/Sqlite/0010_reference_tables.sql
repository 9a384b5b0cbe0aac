-- Versions of tenants' reference tables (the rows are a blob in their uploaded format).
CREATE TABLE reference_tables (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  format TEXT NOT NULL,
  columns TEXT NOT NULL,
  rows INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  blob_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name, version)
) WITHOUT ROWID;
