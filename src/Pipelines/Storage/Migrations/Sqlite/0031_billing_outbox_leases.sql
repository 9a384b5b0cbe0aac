-- A node relaying a billing command holds it under a lease, so two web nodes never send one command at once (decision 028).
ALTER TABLE billing_outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE billing_outbox ADD COLUMN lease_until INTEGER;
