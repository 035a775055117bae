//! What the engine publishes for consoles: one [`EngineEvent`] per change worth
//! hearing about, on a broadcast channel any part of the engine may send on.

use limelight_shared::canvas::CanvasState;
use limelight_shared::ids::CanvasId;
use limelight_shared::values::Percent;

/// Something consoles should hear about.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// A canvas's live state changed.
    CanvasChanged(CanvasState),
    /// The grand master changed.
    GrandMaster(Percent),
    /// The scheduler changed what plays on a canvas (an entry, an override, a release).
    ScheduleChanged(limelight_shared::schedule::Change),
    /// An override was taken or released.
    OverrideChanged {
        /// The canvas.
        canvas: CanvasId,
        /// The override now in force, if any.
        info: Option<limelight_shared::schedule::OverrideInfo>,
    },
    /// A cue fired on a canvas, or its cue playback changed.
    Cue(limelight_shared::cues::CueEvent),
    /// A canvas failed and is being restarted.
    CanvasRestarted {
        /// The canvas.
        id: CanvasId,
        /// What failed.
        reason: String,
    },
    /// Places were offered to a waitlist entry (for its attendee).
    WaitlistOffer(limelight_shared::booking::WaitlistEntry),
    /// A booking was made (for its attendee).
    BookingConfirmed(limelight_shared::booking::Booking),
    /// An emergency event or a critical incident (for staff).
    SystemAlert(limelight_shared::ws::Alert),
    /// Consoles were opened or closed: who has one open now.
    ConsolesChanged(Vec<limelight_shared::ws::ConsoleUser>),
    /// An asset came, or one of its versions was approved, rejected, rolled back
    /// to, or it was removed (`None` then).
    AssetChanged {
        /// Its id.
        id: limelight_shared::ids::AssetId,
        /// The asset now.
        asset: Option<limelight_shared::content::Asset>,
    },
    /// Values of an input changed (each value at most 10 times a second).
    SensorData {
        /// The input.
        input: limelight_shared::ids::InputId,
        /// The values that changed.
        values: Vec<limelight_shared::ws::SensorValue>,
    },
    /// An input's connection or staleness changed.
    InputStatus {
        /// The input.
        input: limelight_shared::ids::InputId,
        /// Its name.
        name: limelight_shared::input::InputName,
        /// Its connection.
        connection: limelight_shared::input::Connection,
        /// Some value gives its fallback.
        stale: bool,
    },
    /// A celebration fired.
    Celebration(limelight_shared::celebration::CelebrationFired),
    /// A camera's blobs changed (at most 10 times a second).
    Blobs {
        /// The camera input.
        input: limelight_shared::ids::InputId,
        /// The source's frame number.
        frame: u64,
        /// Its blobs now, the largest first.
        blobs: Vec<limelight_shared::input::BlobState>,
    },
    /// An upload moved on (for its uploader).
    UploadProgress {
        /// Who is uploading.
        user: limelight_shared::ids::UserId,
        /// Where it stands.
        upload: limelight_shared::content::Upload,
    },
}
