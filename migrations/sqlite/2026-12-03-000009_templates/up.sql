-- Scene templates: a scene with typed parameters, instantiated into scenes.

CREATE TABLE templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    -- the TemplateSpec as JSON (parameters with defaults, layers with references)
    spec TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
