//! How a room's events reach its members' connections. Connections are grouped
//! by the thread that serves them (one HTTP worker each); each group has a
//! [`Relay`]. A room hands every event once to each relay that has members in it,
//! and the relay, on its own thread, queues it for each of those members. So a
//! room of thousands does one hand-over per worker per event, and the work per
//! connection runs on the thread that owns the connection, in parallel across
//! workers.
//!
//! A member starts *behind*: it hears no events until a snapshot has reached it.
//! A relay that finds a member's queue full marks it behind again and reports it
//! in the room's [`Feedback`]; the room then sends it a fresh snapshot, which
//! stands in for everything it missed. A connection found ended is reported too.

use bytestring::ByteString;
use limelight_shared::ids::SessionId;
use std::sync::{Arc, Mutex, PoisonError};

/// One room event on its way to a relay's members.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The room.
    pub session: SessionId,
    /// What to do with it.
    pub kind: DeliveryKind,
    /// Where the relay reports members that fell behind or ended.
    pub feedback: Arc<Feedback>,
}

/// What a relay is to do for its members of one room.
#[derive(Debug, Clone)]
pub enum DeliveryKind {
    /// Queue an event (`ServerMessage` JSON) for every member that is not behind.
    Event(ByteString),
    /// Queue a `ROOM_SNAPSHOT` for one member; once queued, the member is caught
    /// up and hears events again.
    Snapshot {
        /// The member (its connection's id).
        member: u64,
        /// The snapshot's JSON.
        text: ByteString,
    },
    /// Report members whose connection has ended without leaving.
    Sweep,
}

/// The connections of one thread, as rooms see them. Handing over never waits.
pub trait Relay: Send + Sync + 'static {
    /// Take `delivery` for this relay's members of its room.
    fn relay(&self, delivery: Delivery);
}

/// What relays tell a room about its members, taken by the room on its tick.
#[derive(Debug, Default)]
pub struct Feedback {
    behind: Mutex<Vec<u64>>,
    gone: Mutex<Vec<u64>>,
}

impl Feedback {
    /// `member`'s queue was full: it needs a snapshot.
    pub fn behind(&self, member: u64) {
        lock(&self.behind).push(member);
    }

    /// `member`'s connection has ended.
    pub fn gone(&self, member: u64) {
        lock(&self.gone).push(member);
    }

    /// Members reported behind since the last call.
    pub fn take_behind(&self) -> Vec<u64> {
        std::mem::take(&mut *lock(&self.behind))
    }

    /// Members reported gone since the last call.
    pub fn take_gone(&self) -> Vec<u64> {
        std::mem::take(&mut *lock(&self.gone))
    }
}

/// The lists hold plain ids, so a panic elsewhere cannot leave them half-written.
fn lock(list: &Mutex<Vec<u64>>) -> std::sync::MutexGuard<'_, Vec<u64>> {
    list.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether two relay handles are the same relay.
pub(crate) fn same(a: &Arc<dyn Relay>, b: &Arc<dyn Relay>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}
