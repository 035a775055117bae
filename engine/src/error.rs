//! What the engine's calls can fail with.

use crate::scenes::SceneError;
use crate::store::StoreError;
use limelight_shared::ids::CanvasId;

/// A failed engine call.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No canvas with that id.
    #[error("no canvas with id {0}")]
    UnknownCanvas(CanvasId),
    /// No scene with that name or id.
    #[error("no scene {0}")]
    UnknownScene(String),
    /// No schedule entry with that id.
    #[error("no schedule entry with id {0}")]
    UnknownSchedule(i64),
    /// No cue list with that id.
    #[error("no cue list with id {0}")]
    UnknownCueList(i64),
    /// No cue with that number in the loaded list.
    #[error("{0}")]
    UnknownCue(String),
    /// The cue playback refused a command (GO protection, end of list, no list).
    #[error("{0}")]
    CueRefused(String),
    /// No venue with that id.
    #[error("no venue with id {0}")]
    UnknownVenue(i64),
    /// No event with that id.
    #[error("no event with id {0}")]
    UnknownEvent(i64),
    /// No session with that id.
    #[error("no session with id {0}")]
    UnknownSession(i64),
    /// No incident with that id.
    #[error("no incident with id {0}")]
    UnknownIncident(i64),
    /// The booking ledger said no; nothing changed.
    #[error("{}", .0.message())]
    Booking(crate::booking::LedgerRefusal),
    /// A session room said no; nothing changed.
    #[error(transparent)]
    Room(#[from] crate::room::RoomRefusal),
    /// The connection has not joined the session's room.
    #[error("join the room of session {0} first")]
    NotInRoom(i64),
    /// A service the call needs failed; nothing changed, the call may be retried.
    #[error("{0}")]
    Unavailable(String),
    /// No user with that id.
    #[error("no user with id {0}")]
    UnknownUser(i64),
    /// A value is out of range or inconsistent.
    #[error("{0}")]
    Invalid(String),
    /// The caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A scene document could not be read.
    #[error("{0}")]
    InvalidScene(#[from] SceneError),
    /// The request clashes with existing state.
    #[error("{0}")]
    Conflict(String),
    /// Wrong user name or password.
    #[error("wrong user name or password")]
    BadCredentials,
    /// The canvas is being restarted after a failure; the change is stored and shows
    /// once it is back.
    #[error("canvas {0} is restarting; the change is stored and applies when it is back")]
    Restarting(CanvasId),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// Something else failed inside.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => EngineError::Conflict(what),
            other => EngineError::Store(other),
        }
    }
}
