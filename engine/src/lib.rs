//! The Limelight engine: canvases on frame clocks sending sACN, scenes, storage, and
//! the [`EngineHandle`] through which the API drives it all. Nothing here knows
//! about HTTP.
//!
//! # Layout
//! - [`clock`] (public): the `Clock` and `WallClock` traits, their system and manual
//!   versions, and `FrameClock` (absolute deadlines, skip-don't-burst). Every timer
//!   of the engine waits on the configured `Clock`, so a `ManualClock` drives them
//!   all in tests.
//! - `media` (the `media` feature): GStreamer: uploaded videos read and video
//!   layers played on threads of their own.
//! - `realtime`: real-time scheduling of the threads that render and send.
//! - `render`: effects, blend modes, looks and crossfades (plain Rust).
//! - `canvas`: one canvas: its actor, messages, plain state, inbox and cue
//!   playback; `canvas/directory/` starts, supervises and restarts the canvas
//!   actors; `canvas/control.rs` is live control shared by the API's calls and the
//!   scheduler (stored, then applied; one lane per canvas).
//! - `output`: the `Output` trait and the thread that runs one (newest frame
//!   wins), the sACN output (universes, E1.31 encoder, sender) and a recording
//!   output for tests.
//! - `scene`: scene files in `scenes/` (TOML with a format version) and JSON
//!   bodies, their errors, and the parsed scenes kept in memory.
//! - `cue_list`: cue lists made ready to play, stored playheads, what keeps a list
//!   in use, and the recorder that publishes and stores what cue playback does.
//! - `schedule`: the scheduler: recurrence, sun times, priorities, overrides, the
//!   plan behind previews and timelines, and the actor that fires each change.
//! - `calendar`: venues, events, sessions and incidents: checks and conversions.
//! - `session`: each session's booking ledger (with its waitlist, batched
//!   transactions and actor) and live room (chat, polls, Q&A, presence), and the
//!   directory that starts and stops them on demand.
//! - `content`: assets and their resumable uploads: sniffing, the content
//!   directory (uploads in progress, versions by SHA-256), an upload's life.
//! - `input`: inputs: MQTT connections as supervised actors on a thread of their
//!   own, their bindings' pipelines, and the board of named values that canvases
//!   read at the start of each frame.
//! - `consoles`: who has an operator console open, published to every console.
//! - `accounts`: password hashing, the permission table and the staff rule, and the
//!   principal cache that answers who a token's user is without a database trip.
//! - `venue`: the demo venue seeded into an empty database.
//! - `cluster`: this node among others on one PostgreSQL: the output lock, the
//!   nodes' rows, and whether this node sends.
//! - `store`: diesel storage on SQLite or PostgreSQL (one writer and reader
//!   connections on SQLite), migrations; all SQL lives here, one module per table
//!   group.
//! - `memo`: hot reads (canvas, scene and cue-list lists) kept in memory until a
//!   write clears them.
//! - `published`: `EngineEvent`, what the engine tells consoles.
//! - `handle`: `EngineHandle`, the typed async facade the API calls: `start.rs` is
//!   the composition root, `dto.rs` turns stored records into wire types, and one
//!   file per area (accounts, alerts, assets, bookings, calendar, canvases,
//!   cue lists, live control, rooms, scenes, schedule).
//! - `error`: `EngineError`, gathering each domain's error (`CanvasError`,
//!   `SceneError`, `CueListError`, `ScheduleError`, `CalendarError`, `ContentError`,
//!   `LedgerRefusal`, `RoomRefusal`, `AccountError`, `StoreError`) with `Invalid`
//!   values and `Internal` faults that keep their cause.
//!
//! Everything else is private to the crate; what the API needs is re-exported here.

mod accounts;
pub mod bus;
mod calendar;
mod canvas;
mod celebration;
pub mod clock;
mod cluster;
mod consoles;
mod content;
mod cue_list;
mod error;
mod handle;
mod input;
#[cfg(feature = "media")]
mod media;
mod memo;
mod output;
mod published;
mod realtime;
mod render;
mod scene;
mod schedule;
mod session;
mod store;
mod venue;

pub use accounts::{AccountError, Permission, Principal};
pub use calendar::CalendarError;
pub use canvas::playback::CueRefusal;
pub use canvas::{Blind, CanvasError, PreviewFrame};
pub use celebration::CelebrationError;
pub use consoles::ConsoleOpen;
pub use content::{ContentError, UploadMeta, UploadStatus, UploadWriter};
pub use cue_list::{CueListError, CueListUser};
pub use error::{EngineError, Internal, Invalid, chain as error_chain};
pub use handle::{EngineConfig, EngineHandle};
#[cfg(all(feature = "fault-injection", feature = "media"))]
pub use input::CAMERA_PANIC_NAME;
#[cfg(feature = "fault-injection")]
pub use input::PANIC_PAYLOAD as INPUT_PANIC_PAYLOAD;
pub use input::{InputError, MqttCommands, StatusMqtt};
pub use published::EngineEvent;
pub use realtime::MAX_PRIORITY;
pub use render::{Raster, ThumbnailSize};
pub use scene::file::{SceneError, SceneFileError, SceneRef, load_dir as load_scene_dir};
pub use schedule::{ScheduleError, Site};
pub use session::booking::LedgerRefusal;
pub use session::room::{
    Delivery, DeliveryKind, Feedback, Relay, RoomCommand, RoomDone, RoomRefusal,
};
pub use store::{Direction, Store, StoreError, migrate};

/// The scheduler's plan, for this crate's benchmarks (`benches/schedule.rs`); not
/// a surface for other crates.
#[doc(hidden)]
pub mod bench {
    pub use crate::schedule::{Plan, PlanEntry, Rule};
}
