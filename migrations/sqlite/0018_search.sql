-- Full-text search over conversations and tickets (issue 14; src/desk/search.rs,
-- src/tickets/search.rs, src/store/search.rs). postgres/0018_search.sql indexes the same text
-- with to_tsvector('simple', ...) and GIN.
--
-- Messages: the text as the search sees it, written by the desk with every message
-- (`desk::search::index_text`): the citizen's handle for their own tweets, then the words of the
-- text with personal data (NIK/KK, phone numbers, e-mail addresses) cut out, lower case, one
-- space apart. NULL for messages written before this migration until `kicau run` fills it in.
-- Retention and forgetting empty it with the text. An external-content FTS5 table indexes it
-- and keeps no copy of its own; triggers keep it in step, whoever writes the row.
ALTER TABLE messages ADD COLUMN search_text TEXT;

CREATE VIRTUAL TABLE messages_search USING fts5(
    search_text,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
-- A deleted entry is removed from the index's pages at once, not only marked deleted until the
-- next merge: a forgotten citizen's words do not stay in the file.
INSERT INTO messages_search (messages_search, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_search (messages_search) VALUES ('rebuild');

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF search_text ON messages BEGIN
    INSERT INTO messages_search (messages_search, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    INSERT INTO messages_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_search (messages_search, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
END;

-- Tickets: the number, the reporter's handle, the agency's id, the category, the place and the
-- complaint's words (stored redacted of personal data by `Tickets::file`). The table keeps its
-- own copy, keyed by the ticket number (tickets have no integer key a VACUUM would keep), and
-- triggers keep it in step with every insert, every change of those columns (a reroute, a
-- forgotten reporter) and every delete.
CREATE VIRTUAL TABLE tickets_search USING fts5(
    number, reporter, agency, category, location, text,
    tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO tickets_search (tickets_search, rank) VALUES ('secure-delete', 1);
INSERT INTO tickets_search (number, reporter, agency, category, location, text)
    SELECT number, reporter, agency, category, COALESCE(location, ''), text FROM tickets;

CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_search (number, reporter, agency, category, location, text)
        VALUES (new.number, new.reporter, new.agency, new.category, COALESCE(new.location, ''),
                new.text);
END;
CREATE TRIGGER tickets_search_update
    AFTER UPDATE OF number, reporter, agency, category, location, text ON tickets BEGIN
    DELETE FROM tickets_search WHERE number = old.number;
    INSERT INTO tickets_search (number, reporter, agency, category, location, text)
        VALUES (new.number, new.reporter, new.agency, new.category, COALESCE(new.location, ''),
                new.text);
END;
CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM tickets_search WHERE number = old.number;
END;
