-- Jobs only one instance may run at a time (reading mentions from X, reading Telegram updates)
-- when several instances share the database: the holder renews its lease; when it stops
-- renewing (a crash), the lease lapses and another instance takes the job over.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  BIGINT NOT NULL
);
