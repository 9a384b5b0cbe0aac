-- Versions of tenants' reference tables (the rows are a blob in their uploaded format).
CREATE TABLE reference_tables (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  format TEXT NOT NULL,
  columns TEXT NOT NULL,
  rows BIGINT NOT NULL,
  bytes BIGINT NOT NULL,
  blob_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, name, version)
);
