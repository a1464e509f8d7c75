-- Staff's own side of a conversation (issue 14): private notes between colleagues, handing a
-- conversation to a named colleague, and what its holder has read. Owned by the desk
-- (src/desk/notes.rs, src/desk/assign.rs); retention and forgetting delete a conversation's
-- notes and assignments with its texts (src/desk/privacy.rs).

-- A note staff leave on a conversation for each other; never sent to X or to an agency.
CREATE TABLE notes (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    author          TEXT NOT NULL,
    text            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notes_conversation ON notes (conversation_id, id);

-- Who handed a conversation to whom, and when (the conversation's holder changes with it).
CREATE TABLE assignments (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    assignee        TEXT NOT NULL,
    assigned_by     TEXT NOT NULL,
    at              BIGINT NOT NULL
);
CREATE INDEX assignments_conversation ON assignments (conversation_id, id);

-- When the holder last opened the conversation: a citizen tweet after it is "baru" in
-- "Pegangan saya".
ALTER TABLE conversations ADD COLUMN seen_at BIGINT;
