-- Who did what, per tenant. Append-only: the triggers refuse any change, as a second wall behind the code.
CREATE TABLE audit_log (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  at BIGINT NOT NULL,
  actor_type TEXT NOT NULL,       -- api_key | user | oauth_client | platform | system
  actor_id TEXT,
  action TEXT NOT NULL,           -- e.g. pipeline.published
  target_type TEXT,
  target_id TEXT,
  details TEXT,                   -- JSON
  ip TEXT,
  user_agent TEXT,
  PRIMARY KEY (tenant_id, id)
);

CREATE INDEX audit_log_by_time ON audit_log (tenant_id, at DESC);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();

-- TRUNCATE skips row triggers; refuse it too.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
