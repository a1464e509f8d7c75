-- Every agency note on a ticket, once per message it came in (`origin`: a Telegram message or a
-- WhatsApp message id), so a replayed update relays nothing twice. With `[tickets]
-- approve_notes` a note is pending until a staff member approves it (perhaps edited) or drops
-- it; otherwise it is relayed at once.
CREATE TABLE ticket_notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    number     TEXT NOT NULL REFERENCES tickets (number),
    by_actor   TEXT NOT NULL,
    note       TEXT NOT NULL,                 -- personal data already redacted
    origin     TEXT NOT NULL UNIQUE,
    state      TEXT NOT NULL DEFAULT 'pending', -- pending | approved | dropped | relayed
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
