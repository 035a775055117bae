-- Celebrations: a scene or cue list played over canvases for a while, fired by
-- hand or by a rule on an input value.

CREATE TABLE celebrations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- the CelebrationSpec as JSON (play, canvases, duration, cooldown, rule)
    spec TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
