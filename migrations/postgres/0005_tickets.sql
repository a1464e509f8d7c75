-- Complaint tickets to the agencies: numbers readable aloud (MLG-2026-000123), their state and
-- history, deadlines and reminders, where each went (Telegram or WhatsApp), and complaints still
-- waiting for the citizen to say where.

CREATE TABLE ticket_numbers (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE tickets (
    number               TEXT PRIMARY KEY,
    agency               TEXT NOT NULL,
    category             TEXT NOT NULL,
    state                TEXT NOT NULL,                 -- open | acknowledged | in_progress | resolved | rejected
    text                 TEXT NOT NULL,                 -- the citizen's words, personal data redacted
    location             TEXT,
    photos               TEXT NOT NULL DEFAULT '[]',    -- JSON array of media URLs
    reporter             TEXT NOT NULL,
    reporter_id          TEXT NOT NULL,
    tweet_id             TEXT NOT NULL,                 -- the tweet the status replies answer
    conversation_id      TEXT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    due_acknowledge      BIGINT NOT NULL,
    due_resolve          BIGINT NOT NULL,
    reminded_acknowledge BIGINT NOT NULL DEFAULT 0,
    reminded_resolve     BIGINT NOT NULL DEFAULT 0,
    overdue              BIGINT NOT NULL DEFAULT 0,     -- escalated to staff
    delivery             TEXT                            -- JSON: channel, chat_id/to, message_id
);
CREATE INDEX tickets_agency_state ON tickets (agency, state);

CREATE TABLE ticket_history (
    id       BIGSERIAL PRIMARY KEY,
    number   TEXT NOT NULL REFERENCES tickets (number),
    at       BIGINT NOT NULL,
    state    TEXT NOT NULL,
    by_actor TEXT NOT NULL,
    note     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_history_number ON ticket_history (number, id);

-- A complaint that named no place: the bot asked, and waits for the citizen's answer.
CREATE TABLE pending_reports (
    conversation_id TEXT PRIMARY KEY,
    agency          TEXT NOT NULL,
    category        TEXT NOT NULL,
    text            TEXT NOT NULL,
    photos          TEXT NOT NULL DEFAULT '[]',
    tweet_id        TEXT NOT NULL,
    asks            BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
