-- What an API key may do: space-separated scopes, or NULL for full access (every scope and tenant
-- administration), which is what every key made before scopes existed keeps.
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
