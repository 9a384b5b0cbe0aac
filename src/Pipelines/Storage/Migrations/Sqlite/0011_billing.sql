-- Platform administrators' API keys (a platform role, not a tenant role): hashed like tenant keys.
CREATE TABLE platform_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash BLOB NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE plans (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  currency TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Prices are versioned: a month is priced by the version in effect at its start (decision 018).
CREATE TABLE plan_versions (
  plan_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  effective_from INTEGER NOT NULL,
  prices TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (plan_id, version)
) WITHOUT ROWID;

-- One row per tenant that has a plan, a cap, a billing state or a Stripe customer.
CREATE TABLE tenant_billing (
  tenant_id TEXT NOT NULL PRIMARY KEY,
  plan_id TEXT,
  cap_usd TEXT,
  alert_thresholds TEXT NOT NULL DEFAULT '[50,80,100]',
  alert_email TEXT,
  state TEXT NOT NULL DEFAULT 'active',
  state_reason TEXT,
  grace_until INTEGER,
  suspended_reason TEXT,
  stripe_customer_id TEXT,
  stripe_subscription_id TEXT,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ix_tenant_billing_plan ON tenant_billing (plan_id);
CREATE INDEX ix_tenant_billing_customer ON tenant_billing (stripe_customer_id);

-- Each threshold alerts once per tenant and month: the primary key is the "once".
CREATE TABLE billing_alerts (
  tenant_id TEXT NOT NULL,
  month TEXT NOT NULL,
  threshold INTEGER NOT NULL,
  amount_usd TEXT NOT NULL,
  cap_usd TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, month, threshold)
) WITHOUT ROWID;

-- Work for Stripe that must not make its cause fail (tenant sign-up, plan changes): relayed later.
CREATE TABLE billing_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  done_at INTEGER,
  last_error TEXT
);
CREATE INDEX ix_billing_outbox_due ON billing_outbox (next_attempt_at) WHERE done_at IS NULL;
