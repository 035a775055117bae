//! What the engine's calls can fail with: one error per domain, gathered in
//! [`EngineError`] for the facade's callers.
//!
//! Each domain's error lives beside the domain (`CanvasError` in `canvas`,
//! `CalendarError` in `events`, ...) and carries typed ids. What is left here is
//! what belongs to no domain: a value that fails its checks ([`Invalid`]), a
//! service that is briefly away, and a fault inside ([`Internal`]) that keeps its
//! cause for the log.

use crate::accounts::AccountError;
use crate::calendar::CalendarError;
use crate::canvas::CanvasError;
use crate::content::ContentError;
use crate::cue_list::CueListError;
use crate::scene::file::SceneError;
use crate::schedule::ScheduleError;
use crate::session::booking::LedgerRefusal;
use crate::session::room::RoomRefusal;
use crate::store::StoreError;
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

/// A failed engine call.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A canvas is unknown, restarting, or refused a cue command.
    #[error(transparent)]
    Canvas(#[from] CanvasError),
    /// A scene is unknown or its document is broken.
    #[error(transparent)]
    Scene(#[from] SceneError),
    /// A cue list is unknown or still in use.
    #[error(transparent)]
    CueList(#[from] CueListError),
    /// A schedule entry is unknown, or nothing is scheduled.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// A venue, event, session or incident is unknown.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// The booking ledger said no; nothing changed.
    #[error("{}", .0.message())]
    Ledger(LedgerRefusal),
    /// A session room said no; nothing changed.
    #[error(transparent)]
    Room(#[from] RoomRefusal),
    /// An upload or asset is unknown, expired, busy, or its bytes are refused.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// An input is unknown, or a value name is another input's.
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// A celebration is unknown or cooling down.
    #[error(transparent)]
    Celebration(#[from] crate::celebration::CelebrationError),
    /// A user is unknown, a password is wrong, or the role may not do this.
    #[error(transparent)]
    Accounts(#[from] AccountError),
    /// A value is out of range or inconsistent.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Storage refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A service the call needs failed; nothing changed, the call may be retried.
    #[error("{0}")]
    Unavailable(&'static str),
    /// Something failed inside; the cause is kept for the log.
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl From<LedgerRefusal> for EngineError {
    fn from(r: LedgerRefusal) -> Self {
        EngineError::Ledger(r)
    }
}

impl EngineError {
    /// A value that fails its checks.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        EngineError::Invalid(Invalid(message.into()))
    }

    /// A fault inside, with its cause.
    pub(crate) fn internal(
        context: impl Into<Cow<'static, str>>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        EngineError::Internal(Internal {
            context: context.into(),
            source: Some(Box::new(source)),
        })
    }

    /// A fault inside with no error value behind it (an actor that went away).
    pub(crate) fn broken(context: impl Into<Cow<'static, str>>) -> Self {
        EngineError::Internal(Internal {
            context: context.into(),
            source: None,
        })
    }
}

/// A value that is out of range or inconsistent, in words for the person who sent
/// it; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl From<limelight_shared::values::RangeError> for Invalid {
    fn from(e: limelight_shared::values::RangeError) -> Self {
        Invalid(e.0)
    }
}

impl From<crate::schedule::RuleError> for Invalid {
    fn from(e: crate::schedule::RuleError) -> Self {
        Invalid(e.0)
    }
}

impl From<limelight_shared::values::RangeError> for EngineError {
    fn from(e: limelight_shared::values::RangeError) -> Self {
        EngineError::Invalid(e.into())
    }
}

impl From<crate::schedule::RuleError> for EngineError {
    fn from(e: crate::schedule::RuleError) -> Self {
        EngineError::Invalid(e.into())
    }
}

/// A fault inside the engine: what was being done, and why it failed.
#[derive(Debug)]
pub struct Internal {
    context: Cow<'static, str>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl fmt::Display for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl StdError for Internal {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// An error and every cause behind it, `outer: inner: innermost`, for the log.
pub fn chain(e: &dyn StdError) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let words = cause.to_string();
        if !text.ends_with(&words) {
            text.push_str(": ");
            text.push_str(&words);
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_keeps_every_cause() {
        let io = std::io::Error::other("disk full");
        let e = EngineError::internal("writing the audit log", io);
        assert_eq!(e.to_string(), "writing the audit log");
        assert_eq!(chain(&e), "writing the audit log: disk full");
    }

    #[test]
    fn a_transparent_wrapper_is_not_repeated() {
        let e = EngineError::from(crate::store::StoreError::Corrupt("scene 3".into()));
        assert_eq!(chain(&e), "stored data is corrupt: scene 3");
    }
}
