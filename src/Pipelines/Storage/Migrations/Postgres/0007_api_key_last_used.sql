-- When a key last authenticated a request (refreshed at most once per key-cache period, off the request path).
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
