-- Venues, events and their sessions, incidents, each session's booking ledger
-- (holds, offers, bookings, seat claims, idempotency keys), and attendees.

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'operator', 'marketing', 'attendee'));

CREATE TABLE venues (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL,
    timezone TEXT NOT NULL,
    -- whether an emergency also switches every canvas's emergency override on
    emergency_canvases BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    venue_id BIGINT NOT NULL REFERENCES venues (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('conference', 'meeting', 'show', 'emergency')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'active', 'cancelled')),
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    location TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    -- free-form JSON object
    metadata TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_by_start ON events (starts_at);
CREATE INDEX events_by_venue ON events (venue_id);

-- A session's row is also its inventory: every ledger batch starts by bumping
-- ledger_version, which locks the row until the batch commits.
CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    room TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    -- JSON: rows of numbered seats and the blocked ones; null for general admission
    seat_map TEXT,
    per_user_limit INTEGER CHECK (per_user_limit > 0),
    hold_ttl_s INTEGER NOT NULL CHECK (hold_ttl_s > 0),
    waitlist_order TEXT NOT NULL CHECK (waitlist_order IN ('strict', 'skip_ahead')),
    ledger_version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX sessions_by_event ON sessions (event_id);

-- Holds, waitlist offers and bookings. Only a session's ledger writes them.
CREATE TABLE bookings (
    id TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('held', 'offered', 'booked', 'released', 'expired', 'cancelled')),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    -- JSON array of seat labels; null for general admission
    seats TEXT,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX bookings_live ON bookings (session_id) WHERE state IN ('held', 'offered', 'booked');
CREATE INDEX bookings_by_user ON bookings (user_id);

-- A seat claimed by a live hold, offer or booking: one claim per seat, whoever writes.
CREATE TABLE seat_claims (
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seat TEXT NOT NULL,
    booking_id TEXT NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, seat)
);
CREATE INDEX seat_claims_by_booking ON seat_claims (booking_id);

-- The first answer to each idempotency key, per user and session.
CREATE TABLE idempotency_keys (
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    -- the request, canonical JSON, to tell a retry from a different request
    request TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (session_id, user_id, key)
);

CREATE TABLE incidents (
    id BIGSERIAL PRIMARY KEY,
    event_id BIGINT REFERENCES events (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'resolved')),
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX incidents_by_event ON incidents (event_id);
