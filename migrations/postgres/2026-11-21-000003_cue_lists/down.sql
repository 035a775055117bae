ALTER TABLE canvases DROP COLUMN live_cues;
DROP TABLE cue_lists;
