//! Machine-readable error codes and the body every error carries.

use serde::{Deserialize, Serialize};

/// What went wrong, for programs. The HTTP status follows from the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
    /// No upload with that id.
    UnknownUpload,
    /// The upload passed its `Upload-Expires` and was removed.
    UploadExpired,
    /// The chunk does not start where the upload stands (`Upload-Offset`).
    OffsetMismatch,
    /// Another request is writing this upload; try again when it ends.
    UploadBusy,
    /// The request does not speak tus 1.0.0 (`Tus-Resumable`).
    TusVersion,
    /// The chunk's `Upload-Checksum` does not match its bytes.
    ChecksumMismatch,
    /// The bytes are not a whole image or video of a kind Limelight reads, or it is too large.
    InvalidMedia,
    /// No asset (or no such version of it) with that id.
    UnknownAsset,
    /// The scene plays content that is not approved (pending, rejected, or no
    /// version approved yet).
    NotApproved,
    /// No scene template with that id.
    UnknownTemplate,
    /// No input with that id.
    UnknownInput,
    /// No celebration with that id.
    UnknownCelebration,
    /// The celebration fired a moment ago and waits out its cooldown.
    CoolingDown,
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

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: &[ErrorCode] = &[
        ErrorCode::InvalidJson,
        ErrorCode::ValidationFailed,
        ErrorCode::InvalidScene,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Unauthorized,
        ErrorCode::TokenExpired,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::UnknownCanvas,
        ErrorCode::UnknownScene,
        ErrorCode::UnknownUser,
        ErrorCode::UnknownSchedule,
        ErrorCode::UnknownCueList,
        ErrorCode::UnknownCue,
        ErrorCode::UnknownVenue,
        ErrorCode::UnknownEvent,
        ErrorCode::UnknownSession,
        ErrorCode::UnknownIncident,
        ErrorCode::UnknownBooking,
        ErrorCode::UnknownSeats,
        ErrorCode::SoldOut,
        ErrorCode::SeatsTaken,
        ErrorCode::LimitReached,
        ErrorCode::HoldExpired,
        ErrorCode::BookingGone,
        ErrorCode::BookingClosed,
        ErrorCode::IdempotencyConflict,
        ErrorCode::AlreadyWaiting,
        ErrorCode::PlacesAvailable,
        ErrorCode::NotWaiting,
        ErrorCode::PartyTooLarge,
        ErrorCode::UnknownPoll,
        ErrorCode::UnknownMessage,
        ErrorCode::UnknownQuestion,
        ErrorCode::PollClosed,
        ErrorCode::NotInRoom,
        ErrorCode::RateLimited,
        ErrorCode::CueRefused,
        ErrorCode::UnknownUpload,
        ErrorCode::UploadExpired,
        ErrorCode::OffsetMismatch,
        ErrorCode::UploadBusy,
        ErrorCode::TusVersion,
        ErrorCode::ChecksumMismatch,
        ErrorCode::InvalidMedia,
        ErrorCode::UnknownAsset,
        ErrorCode::NotApproved,
        ErrorCode::UnknownTemplate,
        ErrorCode::UnknownInput,
        ErrorCode::UnknownCelebration,
        ErrorCode::CoolingDown,
        ErrorCode::Conflict,
        ErrorCode::MethodNotAllowed,
        ErrorCode::SlowConsumer,
        ErrorCode::BadMessage,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// The request's id (`X-Request-Id`), to find its lines in the server log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[cfg(test)]
mod all_codes {
    use super::ErrorCode;

    /// A new code fails to compile here until it is given a place, and then this
    /// test until it is in `ALL`.
    fn place(code: ErrorCode) -> usize {
        match code {
            ErrorCode::InvalidJson => 0,
            ErrorCode::ValidationFailed => 1,
            ErrorCode::InvalidScene => 2,
            ErrorCode::PayloadTooLarge => 3,
            ErrorCode::UnsupportedMediaType => 4,
            ErrorCode::Unauthorized => 5,
            ErrorCode::TokenExpired => 6,
            ErrorCode::Forbidden => 7,
            ErrorCode::NotFound => 8,
            ErrorCode::UnknownCanvas => 9,
            ErrorCode::UnknownScene => 10,
            ErrorCode::UnknownUser => 11,
            ErrorCode::UnknownSchedule => 12,
            ErrorCode::UnknownCueList => 13,
            ErrorCode::UnknownCue => 14,
            ErrorCode::UnknownVenue => 15,
            ErrorCode::UnknownEvent => 16,
            ErrorCode::UnknownSession => 17,
            ErrorCode::UnknownIncident => 18,
            ErrorCode::UnknownBooking => 19,
            ErrorCode::UnknownSeats => 20,
            ErrorCode::SoldOut => 21,
            ErrorCode::SeatsTaken => 22,
            ErrorCode::LimitReached => 23,
            ErrorCode::HoldExpired => 24,
            ErrorCode::BookingGone => 25,
            ErrorCode::BookingClosed => 26,
            ErrorCode::IdempotencyConflict => 27,
            ErrorCode::AlreadyWaiting => 28,
            ErrorCode::PlacesAvailable => 29,
            ErrorCode::NotWaiting => 30,
            ErrorCode::PartyTooLarge => 31,
            ErrorCode::UnknownPoll => 32,
            ErrorCode::UnknownMessage => 33,
            ErrorCode::UnknownQuestion => 34,
            ErrorCode::PollClosed => 35,
            ErrorCode::NotInRoom => 36,
            ErrorCode::RateLimited => 37,
            ErrorCode::CueRefused => 38,
            ErrorCode::UnknownUpload => 39,
            ErrorCode::UploadExpired => 40,
            ErrorCode::OffsetMismatch => 41,
            ErrorCode::UploadBusy => 42,
            ErrorCode::TusVersion => 43,
            ErrorCode::ChecksumMismatch => 44,
            ErrorCode::InvalidMedia => 45,
            ErrorCode::UnknownAsset => 46,
            ErrorCode::NotApproved => 47,
            ErrorCode::UnknownTemplate => 48,
            ErrorCode::UnknownInput => 49,
            ErrorCode::UnknownCelebration => 50,
            ErrorCode::CoolingDown => 51,
            ErrorCode::Conflict => 52,
            ErrorCode::MethodNotAllowed => 53,
            ErrorCode::SlowConsumer => 54,
            ErrorCode::BadMessage => 55,
            ErrorCode::Unavailable => 56,
            ErrorCode::Internal => 57,
        }
    }

    #[test]
    fn all_lists_every_code_once_in_order() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(place(*code), i, "{code:?}");
        }
        assert_eq!(ErrorCode::ALL.len(), 58);
    }
}
