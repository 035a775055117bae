//! Messages of the directory.

use crate::canvas::{CanvasSetup, CueOp, LiveCommand, PreviewFrame};
use crate::error::EngineError;
use actix::Message;
use limelight_shared::canvas::CanvasState;
use limelight_shared::ids::CanvasId;
use limelight_shared::values::Percent;
use tokio::sync::watch;

/// Start (or restart with a new configuration) the canvas described by `setup`.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), EngineError>")]
pub struct StartCanvas {
    /// The canvas and its live state.
    pub setup: CanvasSetup,
    /// Its sACN component id.
    pub cid: [u8; 16],
}

/// Stop a canvas: its stream ends with Stream_Terminated.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct RemoveCanvas(pub CanvasId);

/// Apply a live command to a canvas.
#[derive(Debug, Message)]
#[rtype(result = "Result<CanvasState, EngineError>")]
pub struct Control {
    /// The canvas.
    pub id: CanvasId,
    /// The command.
    pub command: LiveCommand,
}

/// A command to a canvas's cue playback, applied now.
#[derive(Debug, Message)]
#[rtype(result = "Result<CanvasState, EngineError>")]
pub struct ControlCue {
    /// The canvas.
    pub id: CanvasId,
    /// The command.
    pub op: CueOp,
}

/// Queue a live command for the first frame of a canvas due at or after `due`
/// (canvas clock); false when there is no such canvas.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct ControlAt {
    /// The canvas.
    pub id: CanvasId,
    /// The command.
    pub command: LiveCommand,
    /// When it is due.
    pub due: std::time::Duration,
}

/// Forget a canvas's commands that wait for a later frame.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct DropTimed(pub CanvasId);

/// The state of a canvas once it has taken its waiting commands (sent by the
/// directory to itself when a canvas failed before it heard of it).
#[derive(Debug, Message)]
#[rtype(result = "Result<CanvasState, EngineError>")]
pub struct Settle(pub CanvasId);

/// Set the grand master on every canvas.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SetGrandMaster(pub Percent);

/// The state of every running canvas, by id.
#[derive(Debug, Message)]
#[rtype(result = "Vec<CanvasState>")]
pub struct GetStates;

/// The preview channel of a canvas.
#[derive(Debug, Message)]
#[rtype(result = "Option<watch::Receiver<Option<PreviewFrame>>>")]
pub struct GetPreview(pub CanvasId);

/// Stop every canvas (Stream_Terminated on every universe).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Make a canvas's next render fail (tests of supervision).
#[cfg(feature = "fault-injection")]
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct InjectFault {
    /// The canvas.
    pub id: CanvasId,
    /// How long its reload waits, to hold it in its restart.
    pub restart_delay: std::time::Duration,
}
