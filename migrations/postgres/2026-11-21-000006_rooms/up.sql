-- Each session's live room: chat, polls with one stored vote per person, and the
-- Q&A with one upvote per person. Only the session's room actor writes them.
CREATE TABLE room_messages (
    id TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    username TEXT NOT NULL,
    body TEXT NOT NULL,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX room_messages_by_session ON room_messages (session_id, created_at);

CREATE TABLE polls (
    id TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    -- JSON array of option labels
    options TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('single', 'multiple')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX polls_by_session ON polls (session_id);

-- One vote per person and poll: a new vote replaces it.
CREATE TABLE poll_votes (
    poll_id TEXT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    -- JSON array of option indexes
    choices TEXT NOT NULL,
    voted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (poll_id, user_id)
);

CREATE TABLE questions (
    id TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    username TEXT NOT NULL,
    body TEXT NOT NULL,
    answered BOOLEAN NOT NULL DEFAULT FALSE,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX questions_by_session ON questions (session_id);

-- One upvote per person and question.
CREATE TABLE question_votes (
    question_id TEXT NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
