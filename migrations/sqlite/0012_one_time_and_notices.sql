-- One-time passwords expire 24 hours after they are issued and open one session only
-- (desk::staff, desk::login): when it expires (0: the password is not a one-time password) and
-- when it was used (0: not yet). An account created before this migration that still has its
-- one-time password gets 24 hours from its creation, already past for most: an admin issues a new
-- one with `kicau staff reset NAME`.
-- Retention: about staff, not citizens; nothing to forget.
ALTER TABLE staff ADD COLUMN otp_expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN otp_used_at BIGINT NOT NULL DEFAULT 0;
UPDATE staff SET otp_expires_at = created_at + 86400000 WHERE must_change = 1;

-- What a page says once after a form was handled (the console's notices): kept with the
-- session, never taken from the address, so no link can make the city's console print a text of
-- its author's. Cleared when shown; gone with the session.
ALTER TABLE sessions ADD COLUMN notice TEXT;
