-- Files delivered to upload triggers (Event Grid / blob trigger), keyed by what identifies the file's content
-- (its name and ETag), so a delivery repeated by the platform starts no second run.
CREATE TABLE upload_deliveries (
  tenant_id TEXT NOT NULL,
  delivery_key TEXT NOT NULL,
  run_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, delivery_key)
);
