-- OAuth 2.0 user context for X (the alternative to OAuth 1.0a): the access token and the rotating
-- refresh token of the account. X invalidates a refresh token when it is used, so the new one
-- must be stored before anything else happens; several instances share this row.
CREATE TABLE x_tokens (
    account           TEXT PRIMARY KEY,
    access_token      TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    refresh_token     TEXT,
    scope             TEXT NOT NULL DEFAULT '',
    updated_at        BIGINT NOT NULL
);
