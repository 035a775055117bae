//! The operator WebSocket protocol (`/api/v1/ws`).
//!
//! Text frames carry JSON objects with a `type` tag. The client authenticates when it
//! connects (`?token=` or an `Authorization` header); the server then sends `welcome`
//! and a `snapshot` of every canvas (with the overrides in force), and from then on
//! `canvas_state` whenever a canvas changes, `schedule_change` whenever the schedule
//! changes what plays, and `override_changed` when an override is taken or released, and `cue` whenever
//! a cue fires. Every command carries a client-chosen `request_id` that comes back in its
//! `ack` or `error`.
//!
//! Every role may connect. Canvas state, schedule and cue events, and system
//! alerts go to staff; attendees hear about their own waitlist offers
//! (`WAITLIST_OFFER`) and bookings (`BOOKING_CONFIRMED`), and about the session
//! rooms they joined (`join_room`): `ROOM_SNAPSHOT` first, then `PRESENCE_UPDATE`,
//! `MESSAGE_RECEIVED`, `MESSAGE_UPDATED`, `POLL_CREATED`, `POLL_RESULTS` (at most
//! ten a second per poll, each with a higher `seq`) and `QUESTION_UPDATED`. A client
//! that falls behind a room gets a fresh `ROOM_SNAPSHOT` instead of the events it
//! missed.
//!
//! Binary frames carry live previews of subscribed canvases:
//!
//! | bytes | field |
//! |---|---|
//! | 0 | preview format version (1) |
//! | 1..9 | canvas id, i64 big-endian |
//! | 9..17 | frame number, u64 big-endian |
//! | 17..21 | pixel count, u32 big-endian |
//! | 21.. | RGB bytes, 3 per pixel, after masters (what the output sends) |
//!
//! A subscription with `max_pixels` gets frames of a larger canvas averaged over
//! runs of neighbouring pixels, so the pixel count is then at most `max_pixels`.
//!
//! A subscription with `"format": 2` gets each canvas drawn where its pixels are:
//! the canvas's raster (a matrix's own grid; strips and points on cells as far
//! apart as their pixels; one row when the canvas has no geometry):
//!
//! | bytes | field |
//! |---|---|
//! | 0 | preview format version (2) |
//! | 1..9 | canvas id, i64 big-endian |
//! | 9..17 | frame number, u64 big-endian |
//! | 17..21 | raster width in cells, u32 big-endian |
//! | 21..25 | raster height in cells, u32 big-endian |
//! | 25.. | RGBA bytes, 4 per cell, row-major from the top left; alpha 255 where a pixel is, 0 where none is |
//!
//! With `max_pixels`, square blocks of cells are averaged so that width x height
//! is at most `max_pixels`.

use crate::booking::{Booking, WaitlistEntry};
use crate::canvas::CanvasState;
use crate::cues::{CueCommand, CueEvent};
use crate::error::ErrorCode;
use crate::ids::{CanvasId, SessionId};
use crate::room::{ChatMessage, Poll, Question, RoomSnapshot};
use crate::scene::FadeCurve;
use crate::schedule::{Change, OverrideInfo, OverrideScope};
use crate::users::Role;
use crate::values::Percent;
use serde::{Deserialize, Serialize};

/// Version of this protocol, sent in `welcome`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Version of the binary preview frame layout.
pub const PREVIEW_FORMAT_VERSION: u8 = 1;
/// Length of the binary preview header.
pub const PREVIEW_HEADER_LEN: usize = 21;
/// Version of the binary preview layout drawn on the canvas's raster.
pub const PREVIEW_RASTER_FORMAT_VERSION: u8 = 2;
/// Length of the raster preview header.
pub const PREVIEW_RASTER_HEADER_LEN: usize = 25;
/// Highest preview rate a client may ask for.
pub const MAX_PREVIEW_FPS: u32 = 30;
/// Fewest pixels a client may ask previews to be averaged down to.
pub const MIN_PREVIEW_PIXELS: u32 = 16;

/// Messages from a console to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Put a scene on a canvas.
    TriggerScene {
        /// Echoed in the answer.
        request_id: String,
        /// Target canvas.
        canvas: CanvasId,
        /// Scene name.
        scene: String,
        /// Crossfade time in milliseconds.
        #[serde(default)]
        fade_ms: u32,
        /// Crossfade shape.
        #[serde(default)]
        curve: FadeCurve,
        /// How long it holds the canvas against the schedule.
        #[serde(default)]
        scope: OverrideScope,
    },
    /// A cue command: run a list, GO, back, go to cue, panic.
    Cue {
        /// Echoed in the answer.
        request_id: String,
        /// Target canvas.
        canvas: CanvasId,
        /// The command.
        command: CueCommand,
    },
    /// Hand a canvas back to the schedule.
    ReleaseOverride {
        /// Echoed in the answer.
        request_id: String,
        /// Target canvas.
        canvas: CanvasId,
        /// Fade to what the schedule plays; the entry's own fade when absent.
        #[serde(default)]
        fade_ms: Option<u32>,
    },
    /// Start the canvas's next scheduled entry now.
    StartNextEntry {
        /// Echoed in the answer.
        request_id: String,
        /// Target canvas.
        canvas: CanvasId,
    },
    /// Blackout on or off.
    Blackout {
        /// Echoed in the answer.
        request_id: String,
        /// Target canvas.
        canvas: CanvasId,
        /// On or off.
        on: bool,
    },
    /// Set a canvas master.
    Master {
        /// Echoed in the answer.
        request_id: String,
        /// Target canvas.
        canvas: CanvasId,
        /// Level in percent.
        level: Percent,
    },
    /// Emergency override on or off.
    Emergency {
        /// Echoed in the answer.
        request_id: String,
        /// Target canvas.
        canvas: CanvasId,
        /// On or off.
        on: bool,
    },
    /// Set the grand master.
    GrandMaster {
        /// Echoed in the answer.
        request_id: String,
        /// Level in percent.
        level: Percent,
    },
    /// Fire a celebration (as `POST /celebrations/{id}/fire` does).
    FireCelebration {
        /// Echoed in the answer.
        request_id: String,
        /// The celebration.
        celebration: crate::ids::CelebrationId,
    },
    /// Receive binary previews of these canvases (replaces an earlier subscription).
    SubscribePreview {
        /// Echoed in the answer.
        request_id: String,
        /// Canvases to preview; empty stops previews.
        canvases: Vec<CanvasId>,
        /// Preview frames per second per canvas (1-30, default 15).
        #[serde(default)]
        fps: Option<u32>,
        /// Most pixels a preview frame may carry (at least 16): a larger canvas is
        /// sent averaged over runs of neighbouring pixels. Every pixel when absent.
        #[serde(default)]
        max_pixels: Option<u32>,
        /// Preview layout: 1 (pixels in wire order, the default) or 2 (the
        /// canvas's raster, RGBA).
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 2))]
        format: Option<u8>,
    },
    /// Preview a scene blind on a canvas: rendered on the canvas's pixel map for
    /// this console's previews only, never sent to the wire, content still waiting
    /// for approval included. Its frames stand in for the canvas's own (subscribed
    /// or not) until `scene` is null or the connection ends.
    PreviewScene {
        /// Echoed in the answer.
        request_id: String,
        /// The canvas whose pixel map it is drawn on.
        canvas: CanvasId,
        /// The scene's name; null ends the blind preview.
        scene: Option<String>,
    },
    /// Ask for a fresh snapshot.
    GetSnapshot {
        /// Echoed in the answer.
        request_id: String,
    },
    /// Enter a session's room; `ROOM_SNAPSHOT` follows.
    JoinRoom {
        /// Echoed in the answer.
        request_id: String,
        /// The session.
        session: SessionId,
    },
    /// Leave a session's room.
    LeaveRoom {
        /// Echoed in the answer.
        request_id: String,
        /// The session.
        session: SessionId,
    },
    /// Say something in a room's chat.
    SendMessage {
        /// Echoed in the answer.
        request_id: String,
        /// The session.
        session: SessionId,
        /// 1-500 characters.
        text: String,
    },
    /// Vote in a poll; a new vote replaces the last one.
    SubmitPollResponse {
        /// Echoed in the answer.
        request_id: String,
        /// The session.
        session: SessionId,
        /// The poll.
        poll: String,
        /// Option indexes from 0: one for a single-choice poll.
        choices: Vec<u32>,
    },
    /// Ask a question in the Q&A.
    AskQuestion {
        /// Echoed in the answer.
        request_id: String,
        /// The session.
        session: SessionId,
        /// 1-500 characters.
        text: String,
    },
    /// Upvote a question (once per person).
    Upvote {
        /// Echoed in the answer.
        request_id: String,
        /// The session.
        session: SessionId,
        /// The question.
        question: String,
    },
}

impl ClientMessage {
    /// The client's id for this command.
    pub fn request_id(&self) -> &str {
        match self {
            ClientMessage::TriggerScene { request_id, .. }
            | ClientMessage::Cue { request_id, .. }
            | ClientMessage::ReleaseOverride { request_id, .. }
            | ClientMessage::StartNextEntry { request_id, .. }
            | ClientMessage::Blackout { request_id, .. }
            | ClientMessage::Master { request_id, .. }
            | ClientMessage::Emergency { request_id, .. }
            | ClientMessage::GrandMaster { request_id, .. }
            | ClientMessage::FireCelebration { request_id, .. }
            | ClientMessage::SubscribePreview { request_id, .. }
            | ClientMessage::PreviewScene { request_id, .. }
            | ClientMessage::GetSnapshot { request_id }
            | ClientMessage::JoinRoom { request_id, .. }
            | ClientMessage::LeaveRoom { request_id, .. }
            | ClientMessage::SendMessage { request_id, .. }
            | ClientMessage::SubmitPollResponse { request_id, .. }
            | ClientMessage::AskQuestion { request_id, .. }
            | ClientMessage::Upvote { request_id, .. } => request_id,
        }
    }
}

/// One value of an input as layers read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SensorValue {
    /// The value's name.
    pub name: crate::input::InputName,
    /// 0..1: the latest value, or the fallback.
    pub value: f64,
    /// The fallback stands in.
    pub stale: bool,
}

/// Messages from the server to a console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message after connecting.
    Welcome {
        /// [`PROTOCOL_VERSION`].
        protocol: u32,
        /// Who the connection belongs to.
        username: String,
        /// Their role.
        role: Role,
    },
    /// Every canvas, as it is now.
    Snapshot {
        /// All canvases.
        canvases: Vec<CanvasState>,
        /// The grand master.
        grand_master: Percent,
        /// Canvases held by hand against the schedule.
        #[serde(default)]
        overrides: Vec<OverrideInfo>,
        /// Who has a console open, this one included.
        #[serde(default)]
        consoles: Vec<ConsoleUser>,
        /// Every input: its connection and its values now.
        #[serde(default)]
        inputs: Vec<crate::input::InputState>,
    },
    /// Values of an input that changed (each value at most 10 times a second).
    SensorData {
        /// The input.
        input: crate::ids::InputId,
        /// The values that changed, as layers read them now.
        values: Vec<SensorValue>,
    },
    /// An input's connection changed, or its values went stale or fresh.
    InputStatus {
        /// The input.
        input: crate::ids::InputId,
        /// Its name.
        name: crate::input::InputName,
        /// How its connection stands.
        connection: crate::input::Connection,
        /// Some value gives its fallback (no message yet, expired, or offline).
        stale: bool,
    },
    /// A celebration fired: which, by whom, on which canvases, until when.
    Celebration {
        /// What fired.
        fired: crate::celebration::CelebrationFired,
    },
    /// A camera's tracked blobs moved, came or went (at most 10 times a second).
    Blobs {
        /// The camera input.
        input: crate::ids::InputId,
        /// The source's frame number of the newest frame analysed.
        frame: u64,
        /// Its blobs now, the largest first.
        blobs: Vec<crate::input::BlobState>,
    },
    /// Consoles were opened or closed: who has one open now.
    Consoles {
        /// Each user with a console open.
        consoles: Vec<ConsoleUser>,
    },
    /// An asset came, was approved, rejected or rolled back (`asset` as it is
    /// now), or was removed (`asset` null).
    AssetChanged {
        /// Its id.
        id: crate::ids::AssetId,
        /// The asset now.
        asset: Option<crate::content::Asset>,
    },
    /// One of your uploads moved on: bytes received, or the asset it became.
    UploadProgress {
        /// Where it stands.
        upload: crate::content::Upload,
    },
    /// The schedule changed what plays on a canvas (an entry started or ended, an
    /// override was taken or released, or the scheduler took up what should play).
    ScheduleChange {
        /// The change.
        change: Change,
    },
    /// An override was taken or released on a canvas.
    OverrideChanged {
        /// The canvas.
        canvas: CanvasId,
        /// The override now in force; none once released.
        #[serde(rename = "override")]
        info: Option<OverrideInfo>,
    },
    /// A cue fired on a canvas, or its cue playback changed.
    Cue {
        /// What happened.
        event: CueEvent,
    },
    /// A canvas changed.
    CanvasState {
        /// Its new state.
        canvas: CanvasState,
    },
    /// The grand master changed.
    GrandMaster {
        /// New level.
        level: Percent,
    },
    /// A canvas failed and was restarted from its stored state.
    CanvasRestarted {
        /// The canvas.
        canvas: CanvasId,
        /// What failed.
        reason: String,
    },
    /// An emergency: an event of type emergency or a critical incident (staff).
    SystemAlert {
        /// What happened.
        alert: Alert,
    },
    /// Places were offered to you from a waitlist: confirm the offer to book.
    #[serde(rename = "WAITLIST_OFFER")]
    WaitlistOffer {
        /// Your entry, with the offer.
        entry: WaitlistEntry,
    },
    /// A booking of yours was made.
    #[serde(rename = "BOOKING_CONFIRMED")]
    BookingConfirmed {
        /// The booking.
        booking: Booking,
    },
    /// A room as it is now.
    #[serde(rename = "ROOM_SNAPSHOT")]
    RoomSnapshot {
        /// The room.
        snapshot: RoomSnapshot,
    },
    /// People came or went.
    #[serde(rename = "PRESENCE_UPDATE")]
    PresenceUpdate {
        /// The session.
        session: SessionId,
        /// People in the room now.
        present: u64,
    },
    /// A chat message.
    #[serde(rename = "MESSAGE_RECEIVED")]
    MessageReceived {
        /// The session.
        session: SessionId,
        /// The message.
        message: ChatMessage,
    },
    /// A moderator deleted or pinned a message.
    #[serde(rename = "MESSAGE_UPDATED")]
    MessageUpdated {
        /// The session.
        session: SessionId,
        /// The message now.
        message: ChatMessage,
    },
    /// A poll was created, opened or closed.
    #[serde(rename = "POLL_CREATED")]
    PollCreated {
        /// The session.
        session: SessionId,
        /// The poll.
        poll: Poll,
    },
    /// A poll's results changed.
    #[serde(rename = "POLL_RESULTS")]
    PollResults {
        /// The session.
        session: SessionId,
        /// The poll, with counts and `seq`.
        poll: Poll,
    },
    /// A question was asked, upvoted, answered or pinned.
    #[serde(rename = "QUESTION_UPDATED")]
    QuestionUpdated {
        /// The session.
        session: SessionId,
        /// The question now.
        question: Question,
    },
    /// A command succeeded.
    Ack {
        /// The command's id.
        request_id: String,
        /// The canvas's state after the command, for canvas commands.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        canvas: Option<CanvasState>,
    },
    /// A command failed, or a message could not be understood.
    Error {
        /// The command's id, when it could be read.
        request_id: Option<String>,
        /// Machine-readable code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
}

/// A user with the operator console open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsoleUser {
    /// Who.
    pub username: String,
    /// Their role.
    pub role: Role,
    /// How many consoles they have open.
    pub consoles: u32,
}

/// A system alert for operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// `emergency_event` or `critical_incident`.
    pub kind: String,
    /// The event or incident's id.
    pub id: i64,
    /// Its name or title.
    pub title: String,
    /// Canvases whose emergency override was switched on.
    pub canvases: Vec<CanvasId>,
    /// When, RFC 3339.
    pub at: String,
}
