CREATE TABLE tenant_secrets (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  protected_value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;
