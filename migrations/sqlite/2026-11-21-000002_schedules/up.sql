-- Schedule entries and operators' overrides of the schedule.

CREATE TABLE schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    -- the ScheduleSpec as JSON (targets, play, start, end, recurrence, priority, stop)
    spec TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- At most one override per canvas; it goes with its canvas.
CREATE TABLE schedule_overrides (
    canvas_id BIGINT PRIMARY KEY REFERENCES canvases (id) ON DELETE CASCADE,
    -- the Play as JSON
    play TEXT NOT NULL,
    -- the OverrideScope as JSON
    scope TEXT NOT NULL,
    taken_by TEXT NOT NULL,
    since TIMESTAMP NOT NULL
);
