CREATE TABLE ai_providers (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  base_url TEXT,
  deployment TEXT,
  protected_api_key TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;

CREATE TABLE ai_models (
  tenant_id TEXT NOT NULL,
  alias TEXT NOT NULL,
  targets TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, alias)
) WITHOUT ROWID;
