//! `ApiError`: every failure as a status, a machine-readable code and a message.
//! A 500 tells the client nothing internal; the cause goes to the log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use limelight_engine::EngineError;
use limelight_shared::error::{ErrorBody, ErrorCode};
use std::fmt;

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status of a code.
    pub fn status_of(code: ErrorCode) -> StatusCode {
        match code {
            ErrorCode::InvalidJson | ErrorCode::BadMessage => StatusCode::BAD_REQUEST,
            ErrorCode::ValidationFailed
            | ErrorCode::InvalidScene
            | ErrorCode::UnknownSeats
            | ErrorCode::PartyTooLarge => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::Unauthorized | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound
            | ErrorCode::UnknownCanvas
            | ErrorCode::UnknownScene
            | ErrorCode::UnknownUser
            | ErrorCode::UnknownSchedule
            | ErrorCode::UnknownCueList
            | ErrorCode::UnknownCue
            | ErrorCode::UnknownVenue
            | ErrorCode::UnknownEvent
            | ErrorCode::UnknownSession
            | ErrorCode::UnknownIncident
            | ErrorCode::UnknownBooking
            | ErrorCode::NotWaiting
            | ErrorCode::UnknownPoll
            | ErrorCode::UnknownMessage
            | ErrorCode::UnknownQuestion => StatusCode::NOT_FOUND,
            ErrorCode::Conflict
            | ErrorCode::CueRefused
            | ErrorCode::SoldOut
            | ErrorCode::SeatsTaken
            | ErrorCode::LimitReached
            | ErrorCode::HoldExpired
            | ErrorCode::BookingGone
            | ErrorCode::BookingClosed
            | ErrorCode::IdempotencyConflict
            | ErrorCode::AlreadyWaiting
            | ErrorCode::PlacesAvailable
            | ErrorCode::PollClosed
            | ErrorCode::NotInRoom => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::SlowConsumer => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body sent to the client.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.clone(),
            request_id: crate::request_id::current(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        Self::status_of(self.code)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self.body())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let code = match &e {
            EngineError::UnknownCanvas(_) => ErrorCode::UnknownCanvas,
            EngineError::UnknownScene(_) => ErrorCode::UnknownScene,
            EngineError::UnknownUser(_) => ErrorCode::UnknownUser,
            EngineError::UnknownSchedule(_) => ErrorCode::UnknownSchedule,
            EngineError::UnknownCueList(_) => ErrorCode::UnknownCueList,
            EngineError::UnknownCue(_) => ErrorCode::UnknownCue,
            EngineError::CueRefused(_) => ErrorCode::CueRefused,
            EngineError::UnknownVenue(_) => ErrorCode::UnknownVenue,
            EngineError::UnknownEvent(_) => ErrorCode::UnknownEvent,
            EngineError::UnknownSession(_) => ErrorCode::UnknownSession,
            EngineError::UnknownIncident(_) => ErrorCode::UnknownIncident,
            EngineError::Booking(r) => refusal_code(r),
            EngineError::Unavailable(_) => ErrorCode::Unavailable,
            EngineError::Forbidden(_) => ErrorCode::Forbidden,
            EngineError::NotInRoom(_) => ErrorCode::NotInRoom,
            EngineError::Room(r) => {
                use limelight_engine::RoomRefusal as R;
                match r {
                    R::Invalid(_) => ErrorCode::ValidationFailed,
                    R::RateLimited => ErrorCode::RateLimited,
                    R::UnknownPoll(_) => ErrorCode::UnknownPoll,
                    R::UnknownMessage(_) => ErrorCode::UnknownMessage,
                    R::UnknownQuestion(_) => ErrorCode::UnknownQuestion,
                    R::PollClosed(_) => ErrorCode::PollClosed,
                    R::NotModerator => ErrorCode::Forbidden,
                }
            }
            EngineError::Invalid(_) => ErrorCode::ValidationFailed,
            EngineError::InvalidScene(_) => ErrorCode::InvalidScene,
            EngineError::Conflict(_) => ErrorCode::Conflict,
            EngineError::BadCredentials => ErrorCode::Unauthorized,
            EngineError::Restarting(_) => ErrorCode::Unavailable,
            EngineError::Store(_) | EngineError::Internal(_) => {
                tracing::error!(error = %e, "internal error");
                return ApiError::new(ErrorCode::Internal, "internal error; see the server log");
            }
        };
        ApiError::new(code, e.to_string())
    }
}

/// The code of a ledger's refusal.
pub fn refusal_code(r: &limelight_engine::LedgerRefusal) -> ErrorCode {
    use limelight_engine::LedgerRefusal as R;
    match r {
        R::SoldOut { .. } => ErrorCode::SoldOut,
        R::SeatsTaken { .. } => ErrorCode::SeatsTaken,
        R::UnknownSeats { .. } | R::NotSeated => ErrorCode::UnknownSeats,
        R::LimitReached { .. } => ErrorCode::LimitReached,
        R::Expired => ErrorCode::HoldExpired,
        R::Gone => ErrorCode::BookingGone,
        R::NotFound => ErrorCode::UnknownBooking,
        R::Closed => ErrorCode::BookingClosed,
        R::KeyReused => ErrorCode::IdempotencyConflict,
        R::AlreadyWaiting => ErrorCode::AlreadyWaiting,
        R::PlacesAvailable { .. } => ErrorCode::PlacesAvailable,
        R::NotWaiting => ErrorCode::NotWaiting,
        R::PartyTooLarge { .. } => ErrorCode::PartyTooLarge,
    }
}
