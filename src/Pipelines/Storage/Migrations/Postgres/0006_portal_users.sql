-- Portal accounts (ASP.NET Core Identity over Dapper) and their membership of tenants.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  normalized_email TEXT NOT NULL UNIQUE,
  email_confirmed BOOLEAN NOT NULL DEFAULT false,
  password_hash TEXT,
  security_stamp TEXT NOT NULL,
  concurrency_stamp TEXT NOT NULL,
  lockout_enabled BOOLEAN NOT NULL DEFAULT true,
  lockout_end BIGINT,
  access_failed_count BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'builder', 'viewer')),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX ix_memberships_user ON memberships (user_id);
