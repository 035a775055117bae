-- Each session's waitlist. Only the session's ledger writes it, in the same
-- transaction as the offers it makes, so a freed place is offered exactly once.
CREATE TABLE waitlist_entries (
    id TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    tier TEXT NOT NULL CHECK (tier IN ('vip', 'standard')),
    party INTEGER NOT NULL CHECK (party > 0),
    -- order of signing up within the session
    seq BIGINT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('waiting', 'offered', 'booked', 'left', 'declined', 'expired')),
    -- the hold offered to this entry, while it is offered and after
    offer_id TEXT REFERENCES bookings (id) ON DELETE SET NULL,
    joined_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (session_id, seq)
);
-- One active entry per attendee and session.
CREATE UNIQUE INDEX waitlist_one_per_user ON waitlist_entries (session_id, user_id)
    WHERE state IN ('waiting', 'offered');
