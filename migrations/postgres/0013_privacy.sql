-- Retention and forgetting (src/privacy.rs). When the citizen's data of a conversation was
-- removed: by retention ([privacy] retention_days after the conversation and every ticket born
-- from it closed) or by a request to be forgotten. The row stays, with its times, states and
-- decisions' kinds, so the reports' counts do not change; its texts and the citizen's handle
-- and id are gone, and a purged conversation is never joined again (it has no citizen id).
ALTER TABLE conversations ADD COLUMN purged_at BIGINT;
