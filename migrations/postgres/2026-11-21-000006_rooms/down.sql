DROP TABLE question_votes;
DROP TABLE questions;
DROP TABLE poll_votes;
DROP TABLE polls;
DROP TABLE room_messages;
