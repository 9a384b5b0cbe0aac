CREATE TABLE ai_providers (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  base_url TEXT,
  deployment TEXT,
  protected_api_key TEXT,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, name)
);

CREATE TABLE ai_models (
  tenant_id TEXT NOT NULL,
  alias TEXT NOT NULL,
  targets TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, alias)
);
