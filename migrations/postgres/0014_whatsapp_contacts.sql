-- WhatsApp's business-scoped user ids (Meta, 2026): a webhook may name a sender by `user_id`
-- only, without the phone number. When a webhook from an agency's number carries both, the pair
-- is kept here, so that the agency is recognised by either afterwards. Only agencies' business
-- numbers from bot.toml are kept (never a citizen's), so retention and forgetting do not apply.
CREATE TABLE whatsapp_contacts (
    user_id  TEXT PRIMARY KEY,
    number   TEXT NOT NULL,
    seen_at  BIGINT NOT NULL
);
