//! The directory: the supervisor of canvas actors. It starts one actor per canvas
//! on an arbiter (thread) of its own, keeps each canvas's sender thread and preview
//! channel across restarts, restarts a failed canvas from its stored state, and
//! routes live commands to whichever actor currently plays the canvas.

mod actor;
mod messages;

pub use actor::{Directory, LayerSources, OutputDefaults};
#[cfg(feature = "fault-injection")]
pub use messages::InjectFault;
pub use messages::{
    Control, ControlAt, ControlCue, DropTimed, GetPreview, GetStates, RemoveCanvas, SetGrandMaster,
    Settle, Shutdown, StartCanvas,
};
