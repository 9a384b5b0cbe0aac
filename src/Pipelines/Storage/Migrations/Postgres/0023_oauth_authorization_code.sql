-- Authorization code + PKCE: a client is confidential (has a secret) or public (a browser or native app
-- that cannot keep one), and lists the redirect URIs it may receive codes at (exact match).
ALTER TABLE oauth_clients ADD COLUMN client_type TEXT NOT NULL DEFAULT 'confidential';
ALTER TABLE oauth_clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';   -- space-separated

-- Codes are self-contained (encrypted by the authorization server); this table makes each one single-use:
-- the first redemption inserts its hash, a second one finds it. Rows are useless once the code expired.
CREATE TABLE oauth_code_redemptions (
  code_hash BYTEA NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  redeemed_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE INDEX oauth_code_redemptions_by_expiry ON oauth_code_redemptions (expires_at);
