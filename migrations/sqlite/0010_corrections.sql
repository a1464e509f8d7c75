-- A staff member's correction of a bot decision: the text (personal data already redacted) and
-- the label it should have had. An admin accepts it (it becomes a training example of every
-- instance sharing this database, at once) or drops it. `kicau kb examples export` writes the
-- accepted ones into knowledge/examples/ and stamps exported_at.
CREATE TABLE corrections (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT,
    tweet_id        TEXT,
    text            TEXT NOT NULL,
    label           TEXT NOT NULL,           -- answer <topic> | report <agency> | emergency | handoff | ignore
    decided         TEXT NOT NULL,           -- what the bot had decided, same form
    decided_kind    TEXT NOT NULL,           -- the bot's kind, for the share corrected by kind
    note            TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'pending', -- pending | accepted | dropped
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    reviewed_by     TEXT,
    reviewed_at     BIGINT,
    exported_at     BIGINT
);
CREATE INDEX corrections_state ON corrections (state, id);
