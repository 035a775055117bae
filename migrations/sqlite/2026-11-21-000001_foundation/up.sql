-- Users, canvases with their output configuration and live state, scenes, the
-- latched emergency override, system settings and the audit log.
-- Column types are chosen so that one diesel schema serves PostgreSQL and SQLite.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'marketing')),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE canvases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    -- the CanvasSpec as JSON (pixels, fps, output, emergency colour)
    spec TEXT NOT NULL,
    -- sACN component identifier, stable for the life of the canvas
    cid TEXT NOT NULL,
    live_scene TEXT,
    live_master DOUBLE NOT NULL DEFAULT 100,
    live_blackout BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE scenes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    -- the SceneSpec as JSON
    spec TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('file', 'api')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE emergency_states (
    canvas_id BIGINT PRIMARY KEY REFERENCES canvases (id) ON DELETE CASCADE,
    active BOOLEAN NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error')),
    error TEXT
);
