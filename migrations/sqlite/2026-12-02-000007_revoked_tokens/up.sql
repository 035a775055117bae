-- Tokens ended by logging out, by their id (`jti`), kept until they would have
-- expired anyway.
CREATE TABLE revoked_tokens (
    id TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);
