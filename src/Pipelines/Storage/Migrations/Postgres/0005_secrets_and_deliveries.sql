CREATE TABLE tenant_secrets (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  protected_value TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, name)
);

-- Webhook batches a receiver has acknowledged, so a retried sink does not send them again.
CREATE TABLE sink_deliveries (
  tenant_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  batch BIGINT NOT NULL,
  delivered_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, run_id, batch)
);
