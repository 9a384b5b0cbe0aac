-- A large post is written in chunks, each a short write of its own (decision 027). Its messages carry the post's id, and
-- the post's row here keeps them from the pump until the last chunk deletes it: the post is still all or nothing.
CREATE TABLE queue_posts (
  id TEXT NOT NULL PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  started_at BIGINT NOT NULL
);
ALTER TABLE queue_messages ADD COLUMN post_id TEXT;
CREATE INDEX ix_queue_messages_post ON queue_messages (post_id) WHERE post_id IS NOT NULL;
