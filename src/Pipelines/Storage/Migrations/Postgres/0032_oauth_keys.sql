-- The authorization server's RSA keys, shared by every web node so a token, code or refresh token made by one
-- node is accepted by all (decision 029). One key per use and 30-day period; the id names both, so nodes that
-- make a period's key at once keep the first one written. The private key is protected with Data Protection.
CREATE TABLE oauth_keys (
  id TEXT NOT NULL PRIMARY KEY,
  use TEXT NOT NULL,
  period BIGINT NOT NULL,
  protected_key TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX oauth_keys_by_use ON oauth_keys (use, period);

-- One consent's chain of refresh tokens (each refresh spends one and returns the next) shares a grant id. A spent refresh
-- token presented again means it leaked: the grant is revoked, so the whole chain stops (refresh token rotation, RFC 9700).
CREATE TABLE oauth_revoked_grants (
  grant_id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  revoked_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
