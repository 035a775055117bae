//! The principal cache. Every authenticated request needs its user's name and role;
//! reading them from the database each time put every request in the queue for the
//! database's one writer. Here they are kept in memory and forgotten as soon as the
//! user is changed or deleted through this engine, so a role change applies and a
//! deleted user's token is refused on the very next request.
//!
//! Another engine on the same database does not tell this one of its changes, so an
//! entry is also trusted only for [`FRESH_FOR`]: that bounds how long a change made
//! on another node takes to apply here.

use crate::clock::Clock;
use limelight_shared::ids::UserId;
use limelight_shared::users::Role;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

/// How long a remembered principal is trusted without reading the database again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(5);

/// Who is asking: for permissions (checked by the API) and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub id: UserId,
    /// User name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// May approve content without being an admin.
    pub approver: bool,
}

/// Principals by user id, each with the time it was read.
#[derive(Debug)]
pub(crate) struct Principals {
    clock: Arc<dyn Clock>,
    known: RwLock<Known>,
}

#[derive(Debug, Default)]
struct Known {
    /// Bumped by every change: a lookup that began before a change must not store
    /// what it read, which may be from before the change.
    generation: u64,
    users: HashMap<UserId, (Principal, Duration)>,
}

impl Principals {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            known: RwLock::default(),
        }
    }

    /// The remembered principal of `id`, if it is fresh.
    pub(crate) fn get(&self, id: UserId) -> Option<Principal> {
        // A panic elsewhere cannot leave the map half-changed: every change is one
        // insert or remove.
        let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
        let (principal, read_at) = known.users.get(&id)?;
        (self.clock.now().saturating_sub(*read_at) < FRESH_FOR).then(|| principal.clone())
    }

    /// Taken before reading a user from the database; hand it to [`Self::remember`].
    pub(crate) fn generation(&self) -> u64 {
        self.known
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .generation
    }

    /// Keep what a lookup read, unless a change came in since it began.
    pub(crate) fn remember(&self, generation: u64, principal: Principal) {
        let now = self.clock.now();
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        if known.generation == generation {
            known.users.insert(principal.id, (principal, now));
        }
    }

    /// The user changed or is gone: read it again next time.
    pub(crate) fn forget(&self, id: UserId) {
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        known.generation += 1;
        known.users.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn ops() -> Principal {
        Principal {
            id: UserId(3),
            username: "ops".into(),
            role: Role::Operator,
            approver: false,
        }
    }

    #[test]
    fn a_remembered_principal_is_answered_until_it_is_stale() {
        let clock = Arc::new(ManualClock::new());
        let cache = Principals::new(clock.clone());
        assert_eq!(cache.get(UserId(3)), None);
        cache.remember(cache.generation(), ops());
        assert_eq!(cache.get(UserId(3)), Some(ops()));
        clock.advance(FRESH_FOR - Duration::from_millis(1));
        assert_eq!(cache.get(UserId(3)), Some(ops()));
        clock.advance(Duration::from_millis(1));
        assert_eq!(cache.get(UserId(3)), None);
    }

    #[test]
    fn a_change_is_forgotten_at_once_and_a_lookup_from_before_it_is_not_kept() {
        let cache = Principals::new(Arc::new(ManualClock::new()));
        cache.remember(cache.generation(), ops());
        let before = cache.generation();
        cache.forget(UserId(3));
        assert_eq!(cache.get(UserId(3)), None);
        // A lookup that began before the change may have read the old row.
        cache.remember(before, ops());
        assert_eq!(cache.get(UserId(3)), None);
        cache.remember(cache.generation(), ops());
        assert_eq!(cache.get(UserId(3)), Some(ops()));
    }
}
