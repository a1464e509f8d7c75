-- Agencies' announcements through the office (issue 15): collect, process, publish. Owned by
-- src/announce/ (drafts, draft_edits, draft_comments, draft_links); nothing else writes them.

-- One announcement on its way to the public. `state`: masuk (received), perlu_data (the agency
-- was asked for what is missing), siap_tinjau (complete, waiting for review), disetujui
-- (approved), terjadwal (approved with a time), terbit (published), ditolak (rejected).
CREATE TABLE drafts (
    id            BIGSERIAL PRIMARY KEY,
    agency        TEXT,                                 -- bot.toml's agency id; NULL: the office's own
    source        TEXT NOT NULL,                        -- telegram | whatsapp | console
    state         TEXT NOT NULL,
    text          TEXT NOT NULL,
    category      TEXT,                                 -- a knowledge category, for four-eyes waivers
    event_at      BIGINT,                              -- the event's day (ms), when it has one
    late          BIGINT NOT NULL DEFAULT 0,           -- sent less than [announce] lead_days before it
    created_by    TEXT NOT NULL,                        -- the agency member or staff who started it
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    approved_by   TEXT,
    approved_at   BIGINT,
    scheduled_at  BIGINT,                              -- publish at (ms); NULL: at approval
    published_at  BIGINT,
    outbox_prefix TEXT,                                 -- its tweets' outbox keys: prefix1, prefix2...
    reason        TEXT,                                 -- why it was rejected
    told_at       BIGINT                                -- when the agency was told it is on X
);
CREATE INDEX drafts_state ON drafts (state, updated_at);

-- Who wrote each version of a draft's text (the agency's messages, staff's edits): the
-- four-eyes rule reads it.
CREATE TABLE draft_edits (
    id       BIGSERIAL PRIMARY KEY,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    by_actor TEXT NOT NULL,
    staff    BIGINT NOT NULL,                          -- 1: a staff member; 0: the agency
    at       BIGINT NOT NULL,
    text     TEXT NOT NULL
);
CREATE INDEX draft_edits_draft ON draft_edits (draft_id, id);

-- Staff's comments to each other on a draft.
CREATE TABLE draft_comments (
    id       BIGSERIAL PRIMARY KEY,
    draft_id BIGINT NOT NULL REFERENCES drafts (id),
    by_actor TEXT NOT NULL,
    at       BIGINT NOT NULL,
    text     TEXT NOT NULL
);
CREATE INDEX draft_comments_draft ON draft_comments (draft_id, id);

-- The agency chat messages of a draft (the agency's and the bot's), so that a reply to any of
-- them completes the same draft: `chat_ref` is "tg:CHAT:MESSAGE" or "wa:NUMBER:WAMID".
CREATE TABLE draft_links (
    chat_ref TEXT PRIMARY KEY,
    draft_id BIGINT NOT NULL REFERENCES drafts (id)
);
