-- Full-text search over conversations and tickets (issue 14; src/desk/search.rs,
-- src/tickets/search.rs, src/store/search.rs). sqlite/0018_search.sql indexes the same text
-- with FTS5.
--
-- Messages: the text as the search sees it, written by the desk with every message
-- (`desk::search::index_text`): the citizen's handle for their own tweets, then the words of the
-- text with personal data (NIK/KK, phone numbers, e-mail addresses) cut out, lower case, one
-- space apart. NULL for messages written before this migration until `kicau run` fills it in.
-- Retention and forgetting empty it with the text. The 'simple' configuration (no stemming, no
-- stop words: PostgreSQL has no Indonesian one) over a generated column, so the index follows
-- every write; queries name the column, never repeat the expression.
ALTER TABLE messages ADD COLUMN search_text TEXT;
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', COALESCE(search_text, ''))) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);

-- Tickets: the number and the reporter's handle (weight A), the agency's id (B: an agency's
-- name in a query matches only here), the category and the place (C), the complaint's words
-- (D, stored redacted of personal data by `Tickets::file`). Every run of characters that is not
-- a letter or a digit becomes a space first, so that PostgreSQL's parser reads MLG-2026-000123
-- as mlg, 2026 and 000123, as FTS5 does, and not as signed numbers.
ALTER TABLE tickets ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple',
        regexp_replace(number || ' ' || reporter, '[^[:alnum:]]+', ' ', 'g')), 'A')
    || setweight(to_tsvector('simple', regexp_replace(agency, '[^[:alnum:]]+', ' ', 'g')), 'B')
    || setweight(to_tsvector('simple',
        regexp_replace(category || ' ' || COALESCE(location, ''), '[^[:alnum:]]+', ' ', 'g')), 'C')
    || to_tsvector('simple', regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))
) STORED;
CREATE INDEX tickets_search ON tickets USING GIN (search);
