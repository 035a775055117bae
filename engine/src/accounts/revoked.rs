//! Tokens ended by logging out. Every authenticated request asks whether its token
//! is among them, so they are answered from memory; the database holds them for
//! restarts and for other nodes, which read them again once they are
//! [`FRESH_FOR`](super::principals::FRESH_FOR) old.

use super::principals::FRESH_FOR;
use crate::clock::Clock;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// The ended tokens by id (`jti`), with when each would have expired.
#[derive(Debug)]
pub(crate) struct RevokedTokens {
    clock: Arc<dyn Clock>,
    known: RwLock<Known>,
    /// A read from the database is under way.
    reading: AtomicBool,
}

#[derive(Debug, Default)]
struct Known {
    ids: HashMap<String, DateTime<Utc>>,
    /// When the database was last read; never, at first.
    read_at: Option<Duration>,
}

impl RevokedTokens {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            known: RwLock::default(),
            reading: AtomicBool::new(false),
        }
    }

    /// Whether token `id` was ended.
    pub(crate) fn contains(&self, id: &str) -> bool {
        // Every change is one insert or one swap: a panic elsewhere cannot leave
        // the map half-changed.
        self.known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .ids
            .contains_key(id)
    }

    /// Token `id` was ended here (and stored).
    pub(crate) fn insert(&self, id: String, expires_at: DateTime<Utc>) {
        self.known
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .ids
            .insert(id, expires_at);
    }

    /// Whether the database should be read again; if so, the caller reads it and
    /// hands the result to [`Self::replace`] (or calls [`Self::read_failed`]).
    pub(crate) fn begin_read(&self) -> bool {
        let stale = self
            .known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .read_at
            .is_none_or(|at| self.clock.now().saturating_sub(at) >= FRESH_FOR);
        stale && !self.reading.swap(true, Ordering::AcqRel)
    }

    /// What the database holds, read after [`Self::begin_read`]; ends inserted
    /// here meanwhile are kept.
    pub(crate) fn replace(&self, stored: impl IntoIterator<Item = (String, DateTime<Utc>)>) {
        let now = self.clock.now();
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        known.ids.extend(stored);
        let wall = Utc::now();
        known.ids.retain(|_, expires| *expires > wall);
        known.read_at = Some(now);
        self.reading.store(false, Ordering::Release);
    }

    /// The read after [`Self::begin_read`] failed: try again on the next ask.
    pub(crate) fn read_failed(&self) {
        self.reading.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn an_ended_token_is_known_at_once_and_the_store_is_read_again_when_stale() {
        let clock = Arc::new(ManualClock::new());
        let revoked = RevokedTokens::new(clock.clone());
        assert!(revoked.begin_read(), "never read: read now");
        assert!(!revoked.begin_read(), "one read at a time");
        revoked.insert("mine".into(), Utc::now() + chrono::Duration::hours(1));
        revoked.replace([("theirs".to_owned(), Utc::now() + chrono::Duration::hours(1))]);
        assert!(revoked.contains("mine") && revoked.contains("theirs"));
        assert!(!revoked.contains("other"));
        assert!(!revoked.begin_read(), "fresh");
        clock.advance(FRESH_FOR);
        assert!(revoked.begin_read(), "stale");
        revoked.read_failed();
        assert!(revoked.begin_read(), "a failed read is tried again");
    }

    #[test]
    fn expired_tokens_are_forgotten_on_the_next_read() {
        let revoked = RevokedTokens::new(Arc::new(ManualClock::new()));
        revoked.insert("old".into(), Utc::now() - chrono::Duration::seconds(1));
        assert!(revoked.begin_read());
        revoked.replace([]);
        assert!(!revoked.contains("old"));
    }
}
