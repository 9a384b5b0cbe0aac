-- Per-tenant overrides of the Flowgate:Limits defaults (decision 024); NULL keeps the default.
CREATE TABLE tenant_limits (
  tenant_id TEXT NOT NULL PRIMARY KEY,
  requests_per_second BIGINT,
  request_burst BIGINT,
  max_concurrent_steps BIGINT,
  max_pending_work BIGINT,
  updated_at BIGINT NOT NULL
);

-- Fair pumping and the pending-work count read one tenant's messages at a time.
CREATE INDEX ix_queue_messages_tenant ON queue_messages (tenant_id, id);

-- Fair leasing takes each tenant's due work separately.
CREATE INDEX ix_work_items_tenant_due ON work_items (tenant_id, visible_at);

-- The pending-work count: a tenant's unfinished runs, without reading its finished ones.
CREATE INDEX ix_runs_unfinished ON runs (tenant_id, status) WHERE status IN ('queued', 'running');
