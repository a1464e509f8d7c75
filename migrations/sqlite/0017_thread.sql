-- The conversation page shows each tweet of the thread with its state (queued, sent, failed):
-- a message names the idempotency-key prefix of the outbox rows that carry it to X (its parts
-- end in 1, 2, ...). Messages written before this have none and show no state. A claim looks
-- back at the events of its conversation, found by their conversation.
ALTER TABLE messages ADD COLUMN outbox_prefix TEXT;
CREATE INDEX events_conversation ON events (conversation_id);
