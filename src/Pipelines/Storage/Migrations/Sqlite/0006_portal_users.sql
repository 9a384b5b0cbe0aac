-- Portal accounts (ASP.NET Core Identity over Dapper) and their membership of tenants.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  normalized_email TEXT NOT NULL UNIQUE,
  email_confirmed INTEGER NOT NULL DEFAULT 0,
  password_hash TEXT,
  security_stamp TEXT NOT NULL,
  concurrency_stamp TEXT NOT NULL,
  lockout_enabled INTEGER NOT NULL DEFAULT 1,
  lockout_end INTEGER,
  access_failed_count INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'builder', 'viewer')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX ix_memberships_user ON memberships (user_id);
