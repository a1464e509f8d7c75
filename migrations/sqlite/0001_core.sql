-- Kicau's core store: mentions in, decisions, conversations, the outbox, dead letters, audit.
-- Portable conventions (DESIGN.md, "Storage"): times are integer milliseconds since the epoch,
-- ids of outside things are text, JSON is text. postgres/0001_core.sql is the same schema.

-- Every mention read from X, once (unique tweet id), before anything acts on it.
CREATE TABLE inbox (
    tweet_id        TEXT PRIMARY KEY,
    author_id       TEXT NOT NULL,
    author_username TEXT NOT NULL,
    text            TEXT NOT NULL,
    conversation_id TEXT,
    in_reply_to_id  TEXT,
    created_at      INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    raw             TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',   -- pending | done | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     INTEGER,
    processed_at    INTEGER
);
CREATE INDEX inbox_pending ON inbox (state, tweet_id);

-- Where a listener stopped reading (e.g. key 'x.mentions' -> the newest tweet id stored).
CREATE TABLE cursors (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One citizen's thread on X.
CREATE TABLE conversations (
    id               TEXT PRIMARY KEY,
    citizen_id       TEXT NOT NULL,
    citizen_username TEXT NOT NULL,
    x_conversation_id TEXT NOT NULL,
    state            TEXT NOT NULL,                     -- bot | waiting_staff | staff | closed
    held_by          TEXT,
    reason           TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX conversations_citizen ON conversations (citizen_id, state);
CREATE INDEX conversations_thread ON conversations (x_conversation_id);

-- Tweets in a conversation, both ways.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    direction       TEXT NOT NULL,                      -- in | out
    tweet_id        TEXT,
    author          TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- What triage decided for each mention, with its evidence.
CREATE TABLE decisions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tweet_id        TEXT NOT NULL UNIQUE REFERENCES inbox (tweet_id),
    conversation_id TEXT REFERENCES conversations (id),
    kind            TEXT NOT NULL,
    topic           TEXT,
    agency          TEXT,
    rule            TEXT NOT NULL,
    evidence        TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

-- Everything that leaves the process. The idempotency key makes a second send impossible.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT NOT NULL,                      -- x | telegram | whatsapp
    payload         TEXT NOT NULL,
    priority        INTEGER NOT NULL DEFAULT 0,         -- higher first (emergencies)
    idempotency_key TEXT NOT NULL UNIQUE,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',    -- pending | sending | sent | dead
    lease_until     INTEGER,
    remote_id       TEXT,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, priority, next_attempt_at);

-- Work that can never succeed, kept for staff to see.
CREATE TABLE dead_letters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    source     TEXT NOT NULL,                           -- inbox | outbox | webhook ...
    reference  TEXT NOT NULL,
    payload    TEXT NOT NULL,
    error      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Who did what, when and why.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
);

-- Citizens who wrote "stop": no automatic replies until they write "mulai".
CREATE TABLE opt_outs (
    user_id    TEXT PRIMARY KEY,
    username   TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
