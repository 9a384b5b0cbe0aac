-- Per tenant: budgets, response cache and request-body logging (one JSON document).
CREATE TABLE ai_gateway_settings (
  tenant_id TEXT NOT NULL PRIMARY KEY,
  settings TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Every model call, from the gateway or an llm step: the request log, and what budgets count.
CREATE TABLE ai_requests (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  source TEXT NOT NULL,            -- gateway | step
  key_id TEXT,
  run_id TEXT,
  alias TEXT NOT NULL,
  provider TEXT,
  model TEXT,
  operation TEXT NOT NULL,
  status INTEGER NOT NULL,
  stream BIGINT NOT NULL,
  cached BIGINT NOT NULL,
  input_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL,
  cost_usd DOUBLE PRECISION NOT NULL,
  duration_ms DOUBLE PRECISION NOT NULL,
  error TEXT,
  request_body TEXT,
  response_body TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE INDEX ai_requests_by_time ON ai_requests (tenant_id, created_at DESC);
CREATE INDEX ai_requests_by_key ON ai_requests (tenant_id, key_id, created_at);
