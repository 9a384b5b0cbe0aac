CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  key_hash BLOB NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX ix_api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE pipelines (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  current_version INTEGER NOT NULL,
  status TEXT NOT NULL,
  trigger_type TEXT NOT NULL,
  trigger_queue TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX ix_pipelines_queue ON pipelines (tenant_id, trigger_queue) WHERE trigger_queue IS NOT NULL;

CREATE TABLE pipeline_versions (
  tenant_id TEXT NOT NULL,
  pipeline_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  definition TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, pipeline_id, version)
);

CREATE TABLE runs (
  id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  pipeline_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  trigger TEXT NOT NULL,
  status TEXT NOT NULL,
  input_key TEXT NOT NULL,
  input_format TEXT NOT NULL,
  chunks_total INTEGER,
  chunks_done INTEGER NOT NULL DEFAULT 0,
  records_in INTEGER,
  records_out INTEGER,
  output_key TEXT,
  error TEXT,
  replay_of TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX ix_runs_pipeline ON runs (tenant_id, pipeline_id, id);

CREATE TABLE step_runs (
  run_id TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  chunk INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  step_id TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  records_in INTEGER,
  records_out INTEGER,
  duration_ms REAL,
  error TEXT,
  error_record TEXT,
  started_at INTEGER,
  finished_at INTEGER,
  PRIMARY KEY (run_id, step_index, chunk)
) WITHOUT ROWID;

CREATE TABLE work_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  chunk INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  last_error TEXT,
  UNIQUE (run_id, kind, step_index, chunk)
);
CREATE INDEX ix_work_items_due ON work_items (visible_at);

CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  chunk INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX ix_dead_letters_tenant ON dead_letters (tenant_id, created_at DESC);

CREATE TABLE usage_events (
  tenant_id TEXT NOT NULL,
  meter TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL,
  pipeline_id TEXT,
  run_id TEXT,
  occurred_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, meter, idempotency_key)
) WITHOUT ROWID;
CREATE INDEX ix_usage_tenant_time ON usage_events (tenant_id, occurred_at);

CREATE TABLE queue_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE schedule_state (
  tenant_id TEXT NOT NULL,
  pipeline_id TEXT NOT NULL,
  last_fire_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, pipeline_id)
);

CREATE TABLE small_blobs (
  key TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  data BLOB NOT NULL
);
