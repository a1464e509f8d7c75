-- The login guard (desk::login): consecutive failed logins of an account, when the last one
-- was, and until when the account is locked (0: not locked). A success or an admin's unlock
-- clears them. Retention: these are counters about staff, not citizens; nothing to forget.
ALTER TABLE staff ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN last_failed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0;
