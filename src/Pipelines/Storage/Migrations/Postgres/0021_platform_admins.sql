-- Portal users who administer the platform (plans, tenants' billing, suspension): a platform role, not a tenant role.
CREATE TABLE platform_admins (
  user_id TEXT NOT NULL PRIMARY KEY,
  granted_at BIGINT NOT NULL
);
