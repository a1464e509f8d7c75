-- What the paid platforms bill (X pay-per-use, WhatsApp per delivered message), for the office's
-- spending and budget. `usage_units` keeps one row per unit and resource in its billing period
-- (the UTC day for X's reads, which X bills once a day per resource; "once" for the rest), so a
-- unit recorded twice is counted once; its resource ids (post, user and message ids) are needed
-- only for that, and are deleted after two days. `usage_days` keeps the counts per UTC day and
-- unit, which hold nothing about anyone, for the monthly figures.
CREATE TABLE usage_units (
    unit      TEXT NOT NULL,
    resource  TEXT NOT NULL,
    period    TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (unit, resource, period)
);
CREATE INDEX usage_units_at ON usage_units (at);
CREATE TABLE usage_days (
    day    TEXT NOT NULL,
    unit   TEXT NOT NULL,
    units  BIGINT NOT NULL,
    PRIMARY KEY (day, unit)
);
