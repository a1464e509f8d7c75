-- An agency's note on a ticket that bot.toml holds for staff approval before it reaches the
-- citizen (`[tickets] approve_notes`): pending until a staff member approves it (perhaps
-- edited) or drops it.
CREATE TABLE ticket_notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    number     TEXT NOT NULL REFERENCES tickets (number),
    by_actor   TEXT NOT NULL,
    note       TEXT NOT NULL,                 -- personal data already redacted
    state      TEXT NOT NULL DEFAULT 'pending', -- pending | approved | dropped
    created_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    sent_text  TEXT                           -- what the citizen got, if staff edited it
);
CREATE INDEX ticket_notes_state ON ticket_notes (state, id);

-- A ticket's status tweet for a conversation a person holds waits here (state 'held') until
-- the conversation is released or closed: no automatic tweet while a person is talking.
ALTER TABLE outbox ADD COLUMN hold_for TEXT;
CREATE INDEX outbox_hold_for ON outbox (hold_for);

-- When the ticket's clocks last started: filing (NULL: created_at), a reroute to another agency
-- or a reopening. Reminders and the warning letter count from here.
ALTER TABLE tickets ADD COLUMN assigned_at BIGINT;
