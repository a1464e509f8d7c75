-- The Telegram staff group: which conversation each of the bot's messages there is about, so a
-- button press or a reply to it reaches the right conversation.
CREATE TABLE telegram_messages (
    chat_id         TEXT NOT NULL,
    message_id      BIGINT NOT NULL,
    conversation_id TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (chat_id, message_id)
);
