-- The desk: staff accounts, their sessions and API tokens, what the queue needs of a
-- conversation, and the event feed the console shows live.

-- Who waits since when, why, what was said last, and when the queue last announced it.
ALTER TABLE conversations ADD COLUMN waiting_since BIGINT;
ALTER TABLE conversations ADD COLUMN last_text TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN last_tweet_id TEXT;
ALTER TABLE conversations ADD COLUMN announced_at BIGINT;
-- Emergencies head the queue.
ALTER TABLE conversations ADD COLUMN urgent BIGINT NOT NULL DEFAULT 0;
CREATE INDEX conversations_queue ON conversations (state, urgent, waiting_since);

CREATE TABLE staff (
    name             TEXT PRIMARY KEY,
    role             TEXT NOT NULL,                     -- admin | staff
    password_hash    TEXT NOT NULL,                     -- argon2id, PHC string
    must_change      BIGINT NOT NULL DEFAULT 1,        -- the one-time password is still in use
    telegram_user_id TEXT UNIQUE,
    created_at       BIGINT NOT NULL
);

-- Bearer tokens for the API: only their SHA-256 is kept.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    staff_name TEXT NOT NULL REFERENCES staff (name),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Console sessions: the cookie's SHA-256, and the CSRF token its forms carry.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    staff_name TEXT NOT NULL REFERENCES staff (name),
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- What happened, in order, for the live console (every instance reads the same feed).
CREATE TABLE events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    conversation_id TEXT,
    actor           TEXT NOT NULL,
    detail          TEXT NOT NULL
);
