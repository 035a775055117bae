-- The nodes of a cluster sharing this database: each writes its own row every
-- second; the one holding the output lock says so.

CREATE TABLE nodes (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- the address its HTTP server listens on
    http_addr TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    leader BOOLEAN NOT NULL
);
