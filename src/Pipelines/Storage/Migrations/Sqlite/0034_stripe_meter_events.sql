-- Usage goes to Stripe as one meter event per tenant, meter, model and minute: a tenant's thousands of step executions a
-- second are a few events, not as many calls. An event is recorded, with the usage events it sums, before it is sent, so
-- a crash sends the same event again (which Stripe deduplicates by its identifier), never a regrouped one.
CREATE TABLE stripe_meter_events (
  identifier TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  stripe_customer_id TEXT NOT NULL,
  meter TEXT NOT NULL,
  model TEXT,
  quantity INTEGER NOT NULL,
  occurred_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  sent_at INTEGER
) WITHOUT ROWID;
CREATE INDEX ix_stripe_meter_events_unsent ON stripe_meter_events (created_at) WHERE sent_at IS NULL;

-- Until now every usage event was sent as its own meter event.
INSERT OR IGNORE INTO stripe_meter_events (identifier, tenant_id, stripe_customer_id, meter, model, quantity, occurred_at, created_at, sent_at)
SELECT s.identifier, s.tenant_id, s.stripe_customer_id, s.meter, u.model, u.quantity, u.occurred_at, s.sent_at, s.sent_at
FROM stripe_meter_events_sent s
JOIN usage_events u ON u.tenant_id = s.tenant_id AND u.meter = s.meter AND u.idempotency_key = s.idempotency_key;

-- Which meter event each usage event went into.
ALTER TABLE stripe_meter_events_sent RENAME TO stripe_meter_event_usage;
ALTER TABLE stripe_meter_event_usage DROP COLUMN stripe_customer_id;
ALTER TABLE stripe_meter_event_usage DROP COLUMN sent_at;
