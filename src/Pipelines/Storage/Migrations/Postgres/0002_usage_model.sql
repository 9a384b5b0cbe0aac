ALTER TABLE usage_events ADD COLUMN model TEXT;
