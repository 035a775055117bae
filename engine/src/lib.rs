//! The Limelight engine: canvases on frame clocks sending sACN, scenes, storage, and
//! the [`EngineHandle`] through which the API drives it all. Nothing here knows
//! about HTTP.
//!
//! # Layout
//! - [`clock`]: the `Clock` trait and `FrameClock` (absolute deadlines, skip-don't-burst).
//! - [`render`]: effects, blend modes, looks and crossfades (plain Rust).
//! - [`canvas`]: the canvas actor (`actor.rs`), its messages and its plain state.
//! - [`output`]: the `Output` trait and the thread that runs one (newest frame
//!   wins), the sACN output (universes, E1.31 encoder, sender) and a recording
//!   output for tests.
//! - [`directory`]: the supervisor that starts, restarts and stops canvas actors.
//! - [`realtime`]: real-time scheduling of the threads that render and send.
//! - [`library`]: parsed scenes in memory, for triggering without a database trip.
//! - [`live`]: live control shared by the API's calls and the scheduler (stored, then
//!   applied; one lane per canvas).
//! - [`cues`]: cue lists made ready to play, stored playheads, and the recorder that
//!   publishes and stores what each canvas's cue playback does.
//! - [`schedule`]: the scheduler: recurrence, sun times, priorities, overrides, the
//!   plan behind previews and timelines, and the actor that fires each change.
//! - [`events`]: venues, events, sessions and incidents: checks and conversions.
//! - [`booking`]: each session's booking ledger, its batched transactions, its
//!   actor, and the directory that starts and stops session actors.
//! - [`scenes`]: scene files in `scenes/` (TOML with a format version) and their errors.
//! - [`venue`]: the demo venue seeded into an empty database.
//! - [`store`]: diesel storage on SQLite or PostgreSQL (one writer and reader
//!   connections on SQLite), and migrations.
//! - `accounts`: password hashing, and the principal cache that answers who a
//!   token's user is without a database trip.
//! - `memo`: hot reads (canvas, scene and cue-list lists) kept in memory until a
//!   write clears them.
//! - [`handle`]: `EngineHandle`, the typed async facade the API calls (one file per
//!   area: accounts, canvases, content, live control, cues, schedule).
//! - [`error`]: `EngineError`, what the facade's calls can fail with.

mod accounts;
pub mod booking;
pub mod canvas;
pub mod clock;
pub mod cues;
pub mod directory;
pub mod error;
pub mod events;
pub mod handle;
pub mod library;
pub mod live;
mod memo;
pub mod output;
pub mod realtime;
pub mod render;
pub mod room;
pub mod scenes;
pub mod schedule;
pub mod sessions;
pub mod store;

pub mod venue;

pub use accounts::Principal;
pub use error::EngineError;
pub use handle::{EngineConfig, EngineEvent, EngineHandle};
