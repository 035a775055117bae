//! A canvas: one LED surface with its own frame clock. The actor (`actor.rs`) owns
//! the timing and messaging; everything it renders comes from the plain state in
//! `state.rs`; live commands reach it through its `inbox.rs`; its cue playback
//! is `cues.rs`.

mod actor;
pub mod cues;
mod inbox;
mod messages;
mod state;

pub use actor::{CanvasActor, PreviewFrame};
pub use inbox::Inbox;
#[cfg(feature = "fault-injection")]
pub use messages::InjectRenderFault;
pub use messages::{CanvasFailed, CueReport, GetState, RunCue, TakeCommands};
pub use state::{CanvasSetup, CueOp, LiveCommand};
