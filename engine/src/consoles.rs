//! Who has a console open: the staff connected to the operator WebSocket, kept so
//! every console can show who else is watching and controlling the venue. A
//! console is counted while the [`ConsoleOpen`] the API got for it lives; each
//! change is published as [`EngineEvent::ConsolesChanged`].

use crate::accounts::Principal;
use crate::published::EngineEvent;
use limelight_shared::ws::ConsoleUser;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::broadcast;

/// The open consoles of this process.
#[derive(Debug)]
pub(crate) struct Consoles {
    open: Mutex<BTreeMap<u64, ConsoleUser>>,
    next: AtomicU64,
    events: broadcast::Sender<EngineEvent>,
}

/// One open console; dropping it closes it.
#[derive(Debug)]
pub struct ConsoleOpen {
    id: u64,
    consoles: Arc<Consoles>,
}

impl Drop for ConsoleOpen {
    fn drop(&mut self) {
        self.consoles.close(self.id);
    }
}

impl Consoles {
    pub(crate) fn new(events: broadcast::Sender<EngineEvent>) -> Self {
        Self {
            open: Mutex::default(),
            next: AtomicU64::new(1),
            events,
        }
    }

    /// Count a console of `who` until the answer is dropped.
    pub(crate) fn open(self: &Arc<Self>, who: &Principal) -> ConsoleOpen {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let user = ConsoleUser {
            username: who.username.clone(),
            role: who.role,
            consoles: 1,
        };
        self.lock().insert(id, user);
        self.publish();
        ConsoleOpen {
            id,
            consoles: self.clone(),
        }
    }

    fn close(&self, id: u64) {
        if self.lock().remove(&id).is_some() {
            self.publish();
        }
    }

    /// Each user with a console open, by name, with how many they have open.
    pub(crate) fn list(&self) -> Vec<ConsoleUser> {
        let mut users: Vec<ConsoleUser> = Vec::new();
        let open = self.lock();
        let mut sorted: Vec<&ConsoleUser> = open.values().collect();
        sorted.sort_by(|a, b| a.username.cmp(&b.username));
        for user in sorted {
            match users.last_mut() {
                Some(last) if last.username == user.username => last.consoles += 1,
                _ => users.push(user.clone()),
            }
        }
        users
    }

    fn publish(&self) {
        // Nobody listening is fine: a console that connects later asks for the list.
        let _ = self.events.send(EngineEvent::ConsolesChanged(self.list()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, ConsoleUser>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::ids::UserId;
    use limelight_shared::users::Role;

    fn principal(id: i64, name: &str, role: Role) -> Principal {
        Principal {
            approver: false,
            id: UserId(id),
            username: name.to_owned(),
            role,
        }
    }

    #[test]
    fn consoles_are_listed_per_user_while_open_and_each_change_is_published() {
        let (events, mut heard) = broadcast::channel(16);
        let consoles = Arc::new(Consoles::new(events));
        let ann = principal(1, "ann", Role::Operator);
        let bob = principal(2, "bob", Role::Admin);
        let first = consoles.open(&ann);
        let second = consoles.open(&ann);
        let third = consoles.open(&bob);
        let names = |list: Vec<ConsoleUser>| {
            list.into_iter()
                .map(|u| (u.username, u.consoles))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(consoles.list()),
            [("ann".to_owned(), 2), ("bob".to_owned(), 1)]
        );
        drop(first);
        drop(third);
        assert_eq!(names(consoles.list()), [("ann".to_owned(), 1)]);
        drop(second);
        assert!(consoles.list().is_empty());
        let mut published = Vec::new();
        while let Ok(EngineEvent::ConsolesChanged(list)) = heard.try_recv() {
            published.push(list.len());
        }
        assert_eq!(published, [1, 1, 2, 2, 1, 0]);
    }
}
