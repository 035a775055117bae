//! A canvas: one LED surface with its own frame clock. The actor (`actor.rs`) owns
//! the timing and messaging; everything it renders comes from the plain state in
//! `state.rs`.

mod actor;
mod messages;
mod state;

pub use actor::{CanvasActor, PreviewFrame};
#[cfg(feature = "fault-injection")]
pub use messages::InjectRenderFault;
pub use messages::{Apply, CanvasFailed, GetState};
pub use state::{CanvasSetup, CanvasState, LiveCommand};
