-- Cue lists, and where each canvas's cue playback stands.

CREATE TABLE cue_lists (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- the CueListSpec as JSON (GO protection and the cues in order)
    spec TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The cue list loaded on the canvas and its playhead, as JSON
-- ({"cue_list": id, "current": index or null, "standby": index}); null when none.
ALTER TABLE canvases ADD COLUMN live_cues TEXT;
