//! A canvas: one LED surface with its own frame clock. The actor (`actor.rs`) owns
//! the timing and messaging; everything it renders comes from the plain state in
//! `state.rs`; live commands reach it through its `inbox.rs`; its cue playback
//! is `playback.rs`; `blind.rs` renders a scene on a canvas's pixel map for a
//! console alone. Above the canvases, `directory/` starts, supervises and
//! restarts them, and `control.rs` is the live control that stores each change
//! before a canvas takes it, one lane per canvas.

mod actor;
pub mod blind;
pub mod control;
pub mod directory;
mod inbox;
mod messages;
pub mod playback;
mod state;

pub use actor::{CanvasActor, PreviewFrame};
pub use blind::{Blind, BlindSetup};
pub use inbox::Inbox;
#[cfg(feature = "fault-injection")]
pub use messages::InjectRenderFault;
pub use messages::{CanvasFailed, CueReport, GetState, RunCue, TakeCommands};
pub use state::{CanvasSetup, CueOp, LiveCommand};

use limelight_shared::ids::CanvasId;
use playback::CueRefusal;

/// Why a canvas could not take a command.
#[derive(Debug, thiserror::Error)]
pub enum CanvasError {
    /// No canvas with that id.
    #[error("no canvas with id {0}")]
    Unknown(CanvasId),
    /// The canvas is being restarted after a failure; a stored change shows once it
    /// is back.
    #[error("canvas {0} is restarting; the change is stored and applies when it is back")]
    Restarting(CanvasId),
    /// The canvas's cue playback refused the command.
    #[error("{refusal} (canvas {canvas})")]
    Cue {
        /// The canvas.
        canvas: CanvasId,
        /// Why.
        #[source]
        refusal: CueRefusal,
    },
    /// The canvas's universes overlap another canvas's.
    #[error("universes {}-{} overlap canvas {other:?} ({}-{})", ours.0, ours.1, theirs.0, theirs.1)]
    Overlap {
        /// This canvas's first and last universe.
        ours: (u16, u16),
        /// The other canvas's name.
        other: String,
        /// Its first and last universe.
        theirs: (u16, u16),
    },
    /// The sACN socket could not be opened.
    #[error("cannot open the sACN socket")]
    Socket(#[source] std::io::Error),
}
