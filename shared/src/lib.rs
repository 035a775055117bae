//! Wire types that the Limelight engine, its API and its clients all speak.
//!
//! Everything here is plain data with serde derives; values that have a valid range
//! are newtypes that validate while deserialising, so an out-of-range value never
//! reaches the engine.
//!
//! # Layout
//! - [`ids`]: identifiers (`CanvasId`, `SceneId`, `UserId`, `ScheduleId`, `CueListId`,
//!   `VenueId`, `EventId`, `SessionId`, `IncidentId`, `AssetId`, `TemplateId`, `InputId`).
//! - [`values`]: validated scalars (`Fps`, `Universe`, `Priority`, `EntryPriority`,
//!   `PixelCount`, `PixelsPerUniverse`, `Percent`, `Opacity`, `Rgb`, ...) and the
//!   limits several documents share (`MAX_FADE_MS`).
//! - [`scene`]: scene documents (layers, effects, blend modes, regions, fade curves).
//! - [`canvas`]: canvas configuration, output configuration and live canvas state.
//! - [`content`]: assets with their versions and review status, and uploads.
//! - [`template`]: scene templates with typed parameters, and instantiating one.
//! - [`input`]: inputs (MQTT connections with their bindings), their live state,
//!   and the layer parameters that read an input instead of a constant.
//! - [`geometry`]: pixel maps (matrix, strips, points) and each pixel's position.
//! - [`control`]: live-control command bodies shared by REST and WebSocket.
//! - [`schedule`]: schedule entries, overrides, previews and timelines.
//! - [`cues`]: cue lists, cue commands, playheads and cue events.
//! - [`events`]: venues, events, sessions with seat maps, incidents, list queries.
//! - [`booking`]: holds, bookings, waitlists and availability of a session.
//! - [`room`]: a session's live room: presence, chat, polls and Q&A.
//! - [`users`]: roles, users and login.
//! - [`audit`]: audit-log entries and pages.
//! - [`ws`]: the operator WebSocket protocol.
//! - [`cluster`]: the nodes and which of them drives the output.
//! - [`error`]: machine-readable error codes and the error body.
//! - `openapi`: JSON Schemas of the types whose JSON is not their Rust shape (with
//!   the `openapi` feature).

pub mod audit;
pub mod booking;
pub mod canvas;
pub mod celebration;
pub mod cluster;
pub mod content;
pub mod control;
pub mod cues;
pub mod error;
pub mod events;
pub mod geometry;
pub mod ids;
pub mod input;
mod openapi;
pub mod room;
pub mod scene;
pub mod schedule;
pub mod template;
pub mod users;
pub mod values;
pub mod ws;
