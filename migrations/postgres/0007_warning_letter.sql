-- Malang's rule for its complaint channel: a ticket not acknowledged after `[sla]
-- warning_letter_days` is put before staff, marked for a warning letter to the agency (once).
ALTER TABLE tickets ADD COLUMN warning_letter BIGINT NOT NULL DEFAULT 0;
