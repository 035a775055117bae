//! `ApiError`: every failure as a status, a machine-readable code and a message.
//! A 500 tells the client nothing internal; the cause goes to the log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use limelight_engine::{
    AccountError, CalendarError, CanvasError, CelebrationError, ContentError, CueListError,
    CueRefusal, EngineError, InputError, RoomRefusal, SceneError, ScheduleError, StoreError,
};
use limelight_shared::error::{ErrorBody, ErrorCode};
use std::fmt;

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
    /// A rate limit's figures for the headers of a 429: its rate per minute and
    /// the seconds until one more request is allowed.
    pub rate_limit: Option<(u32, u64)>,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            rate_limit: None,
        }
    }

    /// The same error, answered with `Retry-After`, `RateLimit` and
    /// `RateLimit-Policy` headers for a limit of `limit` a minute that allows one
    /// more request in `retry_after` seconds.
    pub fn with_rate_limit(mut self, limit: u32, retry_after: u64) -> Self {
        self.rate_limit = Some((limit, retry_after));
        self
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
            | ErrorCode::NotInRoom
            | ErrorCode::CoolingDown => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::UnknownUpload
            | ErrorCode::UnknownAsset
            | ErrorCode::UnknownTemplate
            | ErrorCode::UnknownInput
            | ErrorCode::UnknownCelebration => StatusCode::NOT_FOUND,
            ErrorCode::UploadExpired => StatusCode::GONE,
            ErrorCode::OffsetMismatch => StatusCode::CONFLICT,
            ErrorCode::UploadBusy => StatusCode::LOCKED,
            ErrorCode::TusVersion => StatusCode::PRECONDITION_FAILED,
            // tus's own status for a checksum that does not match.
            ErrorCode::ChecksumMismatch => {
                StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST)
            }
            ErrorCode::InvalidMedia => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotApproved => StatusCode::CONFLICT,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::SlowConsumer => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            // A code added to the wire crate and not yet given a status here.
            _ => StatusCode::INTERNAL_SERVER_ERROR,
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
        let mut response = HttpResponse::build(self.status_code());
        if let Some((limit, retry_after)) = self.rate_limit {
            response
                .insert_header(("retry-after", retry_after.to_string()))
                .insert_header((
                    "ratelimit",
                    format!("limit={limit}, remaining=0, reset={retry_after}"),
                ))
                .insert_header(("ratelimit-policy", format!("{limit};w=60")));
        }
        response.json(self.body())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let code = match &e {
            EngineError::Canvas(c) => match c {
                CanvasError::Unknown(_) => ErrorCode::UnknownCanvas,
                CanvasError::Restarting(_) => ErrorCode::Unavailable,
                CanvasError::Cue {
                    refusal: CueRefusal::UnknownCue(_),
                    ..
                } => ErrorCode::UnknownCue,
                CanvasError::Cue {
                    refusal: CueRefusal::Restarting,
                    ..
                } => ErrorCode::Unavailable,
                CanvasError::Cue { .. } => ErrorCode::CueRefused,
                CanvasError::Overlap { .. } => ErrorCode::Conflict,
                CanvasError::Socket(_) => return internal(&e),
            },
            EngineError::Scene(SceneError::Unknown(_)) => ErrorCode::UnknownScene,
            EngineError::Scene(SceneError::File(_) | SceneError::BrokenFiles(_)) => {
                ErrorCode::InvalidScene
            }
            EngineError::CueList(CueListError::Unknown(_)) => ErrorCode::UnknownCueList,
            EngineError::CueList(CueListError::InUse { .. }) => ErrorCode::Conflict,
            EngineError::Schedule(ScheduleError::Unknown(_)) => ErrorCode::UnknownSchedule,
            EngineError::Schedule(ScheduleError::NothingScheduled(_)) => ErrorCode::Conflict,
            EngineError::Calendar(c) => match c {
                CalendarError::UnknownVenue(_) => ErrorCode::UnknownVenue,
                CalendarError::UnknownEvent(_) => ErrorCode::UnknownEvent,
                CalendarError::UnknownSession(_) => ErrorCode::UnknownSession,
                CalendarError::UnknownIncident(_) => ErrorCode::UnknownIncident,
            },
            EngineError::Ledger(r) => refusal_code(r),
            EngineError::Room(r) => match r {
                RoomRefusal::Invalid(_) => ErrorCode::ValidationFailed,
                RoomRefusal::RateLimited => ErrorCode::RateLimited,
                RoomRefusal::UnknownPoll(_) => ErrorCode::UnknownPoll,
                RoomRefusal::UnknownMessage(_) => ErrorCode::UnknownMessage,
                RoomRefusal::UnknownQuestion(_) => ErrorCode::UnknownQuestion,
                RoomRefusal::PollClosed(_) => ErrorCode::PollClosed,
                RoomRefusal::NotModerator => ErrorCode::Forbidden,
                RoomRefusal::NotInRoom(_) => ErrorCode::NotInRoom,
            },
            EngineError::Input(i) => match i {
                InputError::Unknown(_) => ErrorCode::UnknownInput,
                InputError::ValueTaken { .. } => ErrorCode::Conflict,
            },
            EngineError::Celebration(c) => match c {
                CelebrationError::Unknown(_) => ErrorCode::UnknownCelebration,
                CelebrationError::CoolingDown { .. } => ErrorCode::CoolingDown,
            },
            EngineError::Accounts(a) => match a {
                AccountError::UnknownUser(_) => ErrorCode::UnknownUser,
                AccountError::BadCredentials => ErrorCode::Unauthorized,
                AccountError::LastAdmin => ErrorCode::Conflict,
                AccountError::StaffOnly(_) => ErrorCode::Forbidden,
            },
            EngineError::Content(c) => match c {
                ContentError::UnknownUpload(_) => ErrorCode::UnknownUpload,
                ContentError::UploadExpired(_) => ErrorCode::UploadExpired,
                ContentError::OffsetMismatch { .. } => ErrorCode::OffsetMismatch,
                ContentError::Busy(_) => ErrorCode::UploadBusy,
                ContentError::TooLarge { .. } | ContentError::PastTheEnd(_) => {
                    ErrorCode::PayloadTooLarge
                }
                ContentError::UnsupportedType(_) => ErrorCode::UnsupportedMediaType,
                ContentError::InvalidMedia(_) => ErrorCode::InvalidMedia,
                ContentError::ChecksumMismatch => ErrorCode::ChecksumMismatch,
                ContentError::UnknownAsset(_) => ErrorCode::UnknownAsset,
                ContentError::UnknownTemplate(_) => ErrorCode::UnknownTemplate,
                ContentError::NotApproved(_) => ErrorCode::NotApproved,
                ContentError::NothingToReview(_) | ContentError::InUse(..) => ErrorCode::Conflict,
                ContentError::Io(_) => return internal(&e),
            },
            EngineError::Invalid(_) => ErrorCode::ValidationFailed,
            EngineError::Store(StoreError::Conflict(_)) => ErrorCode::Conflict,
            EngineError::Unavailable(_) => ErrorCode::Unavailable,
            EngineError::Store(_) | EngineError::Internal(_) => return internal(&e),
        };
        ApiError::new(code, e.to_string())
    }
}

/// A fault inside: the whole cause chain goes to the log, the client hears only
/// that it happened (and the request id to quote).
fn internal(e: &EngineError) -> ApiError {
    tracing::error!(error = %limelight_engine::error_chain(e), "internal error");
    ApiError::new(ErrorCode::Internal, "internal error; see the server log")
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

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::ids::{CanvasId, SessionId};

    fn mapped(e: impl Into<EngineError>) -> (StatusCode, ErrorCode, String) {
        let api = ApiError::from(e.into());
        (api.status_code(), api.code, api.message)
    }

    #[test]
    fn each_domain_error_has_one_code_and_keeps_its_words() {
        let (status, code, message) = mapped(CanvasError::Unknown(CanvasId(7)));
        assert_eq!(
            (status, code),
            (StatusCode::NOT_FOUND, ErrorCode::UnknownCanvas)
        );
        assert_eq!(message, "no canvas with id 7");

        let refused = CanvasError::Cue {
            canvas: CanvasId(2),
            refusal: CueRefusal::EndOfList,
        };
        let (status, code, message) = mapped(refused);
        assert_eq!(
            (status, code),
            (StatusCode::CONFLICT, ErrorCode::CueRefused)
        );
        assert!(
            message.contains("last cue") && message.contains("canvas 2"),
            "{message}"
        );

        let (status, code, _) = mapped(CalendarError::UnknownSession(SessionId(3)));
        assert_eq!(
            (status, code),
            (StatusCode::NOT_FOUND, ErrorCode::UnknownSession)
        );
        let (status, code, _) = mapped(AccountError::LastAdmin);
        assert_eq!((status, code), (StatusCode::CONFLICT, ErrorCode::Conflict));
        let (status, code, _) = mapped(StoreError::Conflict("name taken".into()));
        assert_eq!((status, code), (StatusCode::CONFLICT, ErrorCode::Conflict));
    }

    #[test]
    fn a_fault_inside_tells_the_client_nothing_internal() {
        let secret = StoreError::Corrupt("row 12 of table users".into());
        let (status, code, message) = mapped(secret);
        assert_eq!(
            (status, code),
            (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
        );
        assert!(!message.contains("users"), "{message}");
    }
}
