//! Machine-readable error codes and the body every error carries.

use serde::{Deserialize, Serialize};

/// What went wrong, for programs. The HTTP status follows from the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON, or not of the expected shape.
    InvalidJson,
    /// A value is out of range or inconsistent.
    ValidationFailed,
    /// A scene file or body could not be read.
    InvalidScene,
    /// The body is larger than the limit.
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// No credentials, or credentials that are not valid.
    Unauthorized,
    /// The token has expired.
    TokenExpired,
    /// Authenticated, but the role may not do this.
    Forbidden,
    /// No such route or resource.
    NotFound,
    /// No canvas with that id.
    UnknownCanvas,
    /// No scene with that name or id.
    UnknownScene,
    /// No user with that id.
    UnknownUser,
    /// No schedule entry with that id.
    UnknownSchedule,
    /// No cue list with that id.
    UnknownCueList,
    /// No cue with that number in the loaded list.
    UnknownCue,
    /// No venue with that id.
    UnknownVenue,
    /// No event with that id.
    UnknownEvent,
    /// No session with that id.
    UnknownSession,
    /// No incident with that id.
    UnknownIncident,
    /// No hold or booking with that id for this attendee.
    UnknownBooking,
    /// Seats named that are not in the seat map, or blocked; or seats named for a
    /// session without a seat map.
    UnknownSeats,
    /// Not enough places are free.
    SoldOut,
    /// Some named seats are held or booked by someone else.
    SeatsTaken,
    /// The attendee would go over the session's per-attendee limit.
    LimitReached,
    /// The hold lapsed before it was confirmed.
    HoldExpired,
    /// The hold was released, or the booking cancelled.
    BookingGone,
    /// The session does not take bookings (its event is not active).
    BookingClosed,
    /// The idempotency key was used before for a different request.
    IdempotencyConflict,
    /// The attendee is on the session's waitlist already.
    AlreadyWaiting,
    /// Places are free for the party: hold them instead of joining the waitlist.
    PlacesAvailable,
    /// The attendee is not on the session's waitlist.
    NotWaiting,
    /// The party is larger than the session.
    PartyTooLarge,
    /// No poll with that id in the room.
    UnknownPoll,
    /// No chat message with that id in the room.
    UnknownMessage,
    /// No question with that id in the room.
    UnknownQuestion,
    /// The poll is not open for votes.
    PollClosed,
    /// The client has not joined the session's room.
    NotInRoom,
    /// Too many messages in a short time; try again shortly.
    RateLimited,
    /// The cue playback cannot do this now (GO protection, end of the list, no
    /// list loaded).
    CueRefused,
    /// The request clashes with existing state (a duplicate name, say).
    Conflict,
    /// The method is not allowed on this route.
    MethodNotAllowed,
    /// A WebSocket client could not keep up and was dropped.
    SlowConsumer,
    /// A WebSocket message came before the client authenticated, or is not understood.
    BadMessage,
    /// The service is not ready.
    Unavailable,
    /// Something failed inside; details are in the server log.
    Internal,
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// The request's id (`X-Request-Id`), to find its lines in the server log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}
