-- OAuth clients of a tenant (client credentials); the secret only as a hash.
CREATE TABLE oauth_clients (
  client_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  secret_hash BYTEA NOT NULL,
  scopes TEXT NOT NULL,           -- space-separated
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE INDEX oauth_clients_by_tenant ON oauth_clients (tenant_id, created_at);
