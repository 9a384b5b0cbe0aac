-- Who published each version: a portal user's e-mail (or id), an API key's id, or NULL for versions from before.
ALTER TABLE pipeline_versions ADD COLUMN published_by TEXT;
