-- Content: assets with their versions (the bytes live in the data directory under
-- their SHA-256) and the tus uploads that bring them in. Users may be given the
-- right to approve content without being admins.

CREATE TABLE assets (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- the version scenes play unless they pin one: the newest approved, or the
    -- one rolled back to
    live_version INTEGER
);

CREATE TABLE asset_versions (
    id BIGSERIAL PRIMARY KEY,
    asset_id BIGINT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('image', 'video')),
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    duration_ms BIGINT,
    fps DOUBLE PRECISION,
    uploaded_by BIGINT NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reason TEXT,
    decided_by BIGINT,
    decided_at TIMESTAMP,
    UNIQUE (asset_id, version)
);
CREATE INDEX asset_versions_sha256 ON asset_versions (sha256);

-- An upload in progress (or done, until it expires): the bytes so far are in
-- the data directory's uploads folder, `received` of them acknowledged.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    owner BIGINT NOT NULL,
    length BIGINT NOT NULL,
    received BIGINT NOT NULL,
    -- the tus Upload-Metadata header as sent
    metadata TEXT NOT NULL,
    -- the asset this upload adds a version to, when it names one
    target_asset BIGINT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    asset_id BIGINT,
    version INTEGER
);

ALTER TABLE users ADD COLUMN approver BOOLEAN NOT NULL DEFAULT FALSE;
