-- Usage events Stripe has accepted as meter events: written in the transaction that records Stripe's answer.
CREATE TABLE stripe_meter_events_sent (
  tenant_id TEXT NOT NULL,
  meter TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  identifier TEXT NOT NULL,
  stripe_customer_id TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, meter, idempotency_key)
) WITHOUT ROWID;

-- Webhook events handled: a redelivered event id is acknowledged and ignored.
CREATE TABLE stripe_webhook_events (
  event_id TEXT NOT NULL PRIMARY KEY,
  type TEXT NOT NULL,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE reconciliation_reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  period_from INTEGER NOT NULL,
  period_to INTEGER NOT NULL,
  differences INTEGER NOT NULL,
  report TEXT NOT NULL
);
