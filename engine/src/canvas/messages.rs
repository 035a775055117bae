//! Messages of the canvas actor.

use actix::Message;
use limelight_shared::canvas::CanvasState;
use limelight_shared::ids::CanvasId;

/// Apply the commands waiting in the canvas's inbox now; answers with the state
/// after them.
#[derive(Debug, Message)]
#[rtype(result = "CanvasState")]
pub struct TakeCommands;

/// A command to the cue playback, applied now (after the commands waiting in the
/// inbox); answers with the state after it, or why it was refused.
#[derive(Debug, Message)]
#[rtype(result = "Result<CanvasState, super::playback::CueRefusal>")]
pub struct RunCue(pub super::CueOp);

/// A cue fired on a canvas, or its cue playback changed.
#[derive(Debug, Clone)]
pub struct CueReport {
    /// The canvas.
    pub canvas: CanvasId,
    /// What happened.
    pub note: super::playback::CueNote,
}

/// What the canvas shows now.
#[derive(Debug, Message)]
#[rtype(result = "CanvasState")]
pub struct GetState;

/// Sent by a canvas to its supervisor when its render failed; the canvas has stopped.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct CanvasFailed {
    /// The canvas.
    pub id: CanvasId,
    /// What failed.
    pub reason: String,
}

/// Make the next render fail (tests of supervision).
#[cfg(feature = "fault-injection")]
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct InjectRenderFault;
