-- The WhatsApp bridge: when each agency number last wrote (the 24-hour window), and which ticket
-- and outbox row each sent message (wamid) belongs to, for replies with context and for
-- resending as a template when a message fails with 131047.
CREATE TABLE whatsapp_windows (
    number        TEXT PRIMARY KEY,
    last_inbound  BIGINT NOT NULL
);

CREATE TABLE whatsapp_messages (
    wamid      TEXT PRIMARY KEY,
    ticket     TEXT,
    outbox_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
