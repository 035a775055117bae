//! A session's live room: presence, chat, polls and Q&A, as the WebSocket and the
//! REST API carry them.

use crate::ids::{SessionId, UserId};
use serde::{Deserialize, Serialize};

/// Longest chat message or question, in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// Most options a poll may have.
pub const MAX_POLL_OPTIONS: usize = 20;
/// Chat messages one attendee may send in [`RATE_WINDOW_S`] seconds.
pub const MESSAGES_PER_WINDOW: usize = 5;
/// The window of the chat rate limit, seconds.
pub const RATE_WINDOW_S: u64 = 10;
/// Most poll-result broadcasts per poll per second.
pub const RESULTS_PER_SECOND: u32 = 10;

/// A chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    /// Id (a UUID).
    pub id: String,
    /// Who wrote it.
    pub user: UserId,
    /// Their name.
    pub username: String,
    /// The text; empty once deleted.
    pub text: String,
    /// Pinned by a moderator.
    pub pinned: bool,
    /// Deleted by a moderator.
    pub deleted: bool,
    /// When, RFC 3339.
    pub at: String,
}

/// Whether a poll takes one choice or several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PollKind {
    /// One option.
    #[default]
    Single,
    /// Any number of options, at least one.
    Multiple,
}

/// Whether a poll takes votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PollStatus {
    /// Created, not yet open.
    Draft,
    /// Taking votes.
    Open,
    /// Results are final.
    Closed,
}

/// One option of a new poll, 1-200 characters, not all whitespace (a schema only:
/// options are strings, trimmed when kept).
#[cfg(feature = "openapi")]
#[derive(Debug)]
pub struct PollOption;

crate::openapi::schema!(
    PollOption,
    "PollOption",
    crate::openapi::text(1, 200, crate::openapi::Form::Visible)
);

/// Body of `POST /api/v1/sessions/{id}/room/polls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPoll {
    /// The question, 1-500 characters, not all whitespace (trimmed when kept).
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 500,
            pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
        )
    )]
    pub question: String,
    /// 2-20 options, 1-200 characters each.
    #[cfg_attr(
        feature = "openapi",
        schema(min_items = 2, max_items = 20, value_type = Vec<PollOption>)
    )]
    pub options: Vec<String>,
    /// Single or multiple choice.
    #[serde(default)]
    pub kind: PollKind,
    /// Open it at once (default) or leave it as a draft.
    #[serde(default = "yes")]
    pub open: bool,
}

fn yes() -> bool {
    true
}

/// A poll with its results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Poll {
    /// Id (a UUID).
    pub id: String,
    /// The question.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub question: String,
    /// The options.
    #[cfg_attr(feature = "openapi", schema(min_items = 2, max_items = 20))]
    pub options: Vec<String>,
    /// Single or multiple choice.
    pub kind: PollKind,
    /// Draft, open or closed.
    pub status: PollStatus,
    /// Votes per option, derived from the stored votes.
    pub counts: Vec<u64>,
    /// People who voted.
    pub voters: u64,
    /// Increases with every results broadcast.
    pub seq: u64,
}

/// A question in the Q&A.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    /// Id (a UUID).
    pub id: String,
    /// Who asked.
    pub user: UserId,
    /// Their name.
    pub username: String,
    /// The question.
    pub text: String,
    /// Upvotes, one per person.
    pub upvotes: u64,
    /// Answered, as marked by a moderator.
    pub answered: bool,
    /// Pinned by a moderator.
    pub pinned: bool,
    /// When, RFC 3339.
    pub at: String,
}

/// Everything a client needs to show the room; sent on joining and whenever a
/// client fell behind and missed events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomSnapshot {
    /// The session.
    pub session: SessionId,
    /// People in the room now.
    pub present: u64,
    /// The latest chat messages, oldest first (pinned ones are always included).
    pub messages: Vec<ChatMessage>,
    /// Every poll, newest first.
    pub polls: Vec<Poll>,
    /// Questions: pinned first, then by upvotes, then oldest first.
    pub questions: Vec<Question>,
}

/// A moderator's action on a chat message or a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Moderation {
    /// Delete a message.
    Delete,
    /// Pin a message or question.
    Pin,
    /// Unpin it.
    Unpin,
    /// Mark a question answered.
    Answered,
}

/// Body of the moderation routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Moderate {
    /// What to do.
    pub action: Moderation,
}

/// Body of `POST /api/v1/sessions/{id}/room/polls/{poll}/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPollStatus {
    /// `open` or `closed`.
    pub status: PollStatus,
}

crate::openapi::schema!(
    SetPollStatus,
    "SetPollStatus",
    crate::openapi::poll_status_change()
);
