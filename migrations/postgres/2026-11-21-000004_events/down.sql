DROP TABLE incidents;
DROP TABLE idempotency_keys;
DROP TABLE seat_claims;
DROP TABLE bookings;
DROP TABLE sessions;
DROP TABLE events;
DROP TABLE venues;
DELETE FROM users WHERE role = 'attendee';
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'operator', 'marketing'));
