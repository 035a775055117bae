-- Inputs: sensor connections (MQTT) and the named values their bindings feed.

CREATE TABLE inputs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    -- the InputSpec as JSON (kind, connection settings, bindings)
    spec TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
