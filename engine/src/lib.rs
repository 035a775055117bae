//! The Limelight engine: canvases on frame clocks sending sACN, scenes, storage, and
//! the [`EngineHandle`] through which the API drives it all. Nothing here knows
//! about HTTP.
//!
//! # Layout
//! - [`clock`] (public): the `Clock` trait and `FrameClock` (absolute deadlines, skip-don't-burst).
//! - `render`: effects, blend modes, looks and crossfades (plain Rust).
//! - `canvas`: the canvas actor (`actor.rs`), its messages and its plain state.
//! - `output`: the `Output` trait and the thread that runs one (newest frame
//!   wins), the sACN output (universes, E1.31 encoder, sender) and a recording
//!   output for tests.
//! - `directory`: the supervisor that starts, restarts and stops canvas actors.
//! - `realtime`: real-time scheduling of the threads that render and send.
//! - `library`: parsed scenes in memory, for triggering without a database trip.
//! - `live`: live control shared by the API's calls and the scheduler (stored, then
//!   applied; one lane per canvas).
//! - `cues`: cue lists made ready to play, stored playheads, and the recorder that
//!   publishes and stores what each canvas's cue playback does.
//! - `schedule`: the scheduler: recurrence, sun times, priorities, overrides, the
//!   plan behind previews and timelines, and the actor that fires each change.
//! - `events`: venues, events, sessions and incidents: checks and conversions.
//! - `booking`: each session's booking ledger, its batched transactions, its
//!   actor, and its waitlist.
//! - `room`: each session's live room (chat, polls, Q&A, presence): plain state,
//!   actor, the relay to connections, and storage.
//! - `sessions`: the directory that starts and stops each session's ledger and room
//!   actors on demand.
//! - `scenes`: scene files in `scenes/` (TOML with a format version) and their errors.
//! - `venue`: the demo venue seeded into an empty database.
//! - `store`: diesel storage on SQLite or PostgreSQL (one writer and reader
//!   connections on SQLite), and migrations.
//! - `accounts`: password hashing, the permission table and the staff rule, and the
//!   principal cache that answers who a token's user is without a database trip.
//! - `memo`: hot reads (canvas, scene and cue-list lists) kept in memory until a
//!   write clears them.
//! - `handle`: `EngineHandle`, the typed async facade the API calls (one file per
//!   area: accounts, canvases, content, live control, cues, schedule).
//! - `error`: `EngineError`, what the facade's calls can fail with.
//!
//! Everything else is private to the crate; what the API needs is re-exported here.

mod accounts;
mod booking;
mod canvas;
pub mod clock;
mod cues;
mod directory;
mod error;
mod events;
mod handle;
mod library;
mod live;
mod memo;
mod output;
mod realtime;
mod render;
mod room;
mod scenes;
mod schedule;
mod sessions;
mod store;
mod venue;

pub use accounts::{AccountError, Permission, Principal};
pub use booking::LedgerRefusal;
pub use canvas::cues::CueRefusal;
pub use canvas::{CanvasError, PreviewFrame};
pub use cues::{CueListError, CueListUser};
pub use error::{EngineError, Internal, Invalid, chain as error_chain};
pub use events::CalendarError;
pub use handle::{EngineConfig, EngineEvent, EngineHandle};
pub use realtime::MAX_PRIORITY;
pub use room::{Delivery, DeliveryKind, Feedback, Relay, RoomCommand, RoomDone, RoomRefusal};
pub use scenes::{SceneError, SceneFileError, SceneRef, load_dir as load_scene_dir};
pub use schedule::{ScheduleError, Site};
pub use store::{Direction, Store, StoreError, migrate};

/// The scheduler's plan, for this crate's benchmarks (`benches/schedule.rs`); not
/// a surface for other crates.
#[doc(hidden)]
pub mod bench {
    pub use crate::schedule::{Plan, PlanEntry, Rule};
}
