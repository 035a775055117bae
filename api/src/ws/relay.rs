//! The room relay of one HTTP worker thread. Rooms hand each event once to the
//! relay of every worker that serves some of their members; the relay, on its
//! worker's thread, queues it in each of those connections' outboxes. So the
//! work per connection stays on the thread that owns the connection, the two
//! workers do it in parallel, and a room's event costs one cross-thread wake-up
//! per worker instead of one per member.
//!
//! A member is behind from its join until a snapshot has reached its outbox, and
//! again from the moment its outbox has no room for an event; while behind it is
//! skipped. The relay reports it in the room's feedback, and the room sends a
//! fresh snapshot, which stands in for what the member missed.

use super::outbound::Outbox;
use actix_ws::Message;
use bytestring::ByteString;
use limelight_engine::room::{Delivery, DeliveryKind, Feedback, Relay};
use limelight_shared::ids::SessionId;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Places room events leave free in an outbox for the connection's own replies
/// and pongs, so a reader who falls behind on room traffic is resynchronised, not
/// dropped at its next command.
const REPLY_HEADROOM: usize = 32;

/// The half of a relay that rooms hold: it passes deliveries to the worker.
struct Inbox(mpsc::UnboundedSender<Delivery>);

impl Relay for Inbox {
    fn relay(&self, delivery: Delivery) {
        // Fails only once the worker has stopped, and its connections with it.
        let _ = self.0.send(delivery);
    }
}

/// One connection in one room.
struct Local {
    member: u64,
    out: Outbox,
    behind: bool,
}

/// What became of an event queued for a member.
enum Queued {
    Taken,
    Full,
    Gone,
}

fn queue(out: &Outbox, text: ByteString) -> Queued {
    if out.capacity() <= REPLY_HEADROOM {
        return if out.is_closed() {
            Queued::Gone
        } else {
            Queued::Full
        };
    }
    match out.try_send(Message::Text(text)) {
        Ok(()) => Queued::Taken,
        Err(mpsc::error::TrySendError::Full(_)) => Queued::Full,
        Err(mpsc::error::TrySendError::Closed(_)) => Queued::Gone,
    }
}

/// A worker thread's room members and the deliveries rooms have handed it.
pub struct WorkerRelay {
    inbox: Arc<Inbox>,
    deliveries: RefCell<mpsc::UnboundedReceiver<Delivery>>,
    rooms: RefCell<HashMap<SessionId, Vec<Local>>>,
    /// The task that delivers as deliveries arrive.
    drain: RefCell<Option<JoinHandle<()>>>,
}

thread_local! {
    static RELAY: OnceCell<Rc<WorkerRelay>> = const { OnceCell::new() };
}

impl WorkerRelay {
    /// The relay of the calling worker thread, with its delivering task running
    /// on the thread's runtime.
    pub fn current() -> Rc<Self> {
        let relay = RELAY.with(|cell| {
            cell.get_or_init(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                Rc::new(Self {
                    inbox: Arc::new(Inbox(tx)),
                    deliveries: RefCell::new(rx),
                    rooms: RefCell::new(HashMap::new()),
                    drain: RefCell::new(None),
                })
            })
            .clone()
        });
        let mut drain = relay.drain.borrow_mut();
        // A thread outlives a runtime in tests that start several servers.
        if drain.as_ref().is_none_or(JoinHandle::is_finished) {
            *drain = Some(actix_web::rt::spawn(deliver_as_they_come(relay.clone())));
        }
        drop(drain);
        relay
    }

    /// What rooms hold to reach this relay.
    pub fn handle(&self) -> Arc<dyn Relay> {
        self.inbox.clone()
    }

    /// Serve `member` of `session` through `out`. It hears nothing until the
    /// room's snapshot for it arrives, so call this before entering the room.
    pub fn join(&self, session: SessionId, member: u64, out: Outbox) {
        let mut rooms = self.rooms.borrow_mut();
        let members = rooms.entry(session).or_default();
        members.retain(|m| m.member != member);
        members.push(Local {
            member,
            out,
            behind: true,
        });
    }

    /// Stop serving `member` of `session`.
    pub fn leave(&self, session: SessionId, member: u64) {
        let mut rooms = self.rooms.borrow_mut();
        if let Some(members) = rooms.get_mut(&session) {
            members.retain(|m| m.member != member);
            if members.is_empty() {
                rooms.remove(&session);
            }
        }
    }

    /// Deliver everything rooms have handed over so far. A connection calls this
    /// before it replies to a room command, so the command's own events (and a
    /// join's snapshot) reach its outbox before the reply.
    pub fn flush(&self) {
        loop {
            let next = self.deliveries.borrow_mut().try_recv();
            match next {
                Ok(delivery) => self.deliver(delivery),
                Err(_) => return,
            }
        }
    }

    fn deliver(&self, delivery: Delivery) {
        let Delivery {
            session,
            kind,
            feedback,
        } = delivery;
        let mut rooms = self.rooms.borrow_mut();
        let Some(members) = rooms.get_mut(&session) else {
            return;
        };
        match kind {
            DeliveryKind::Event(text) => {
                members.retain_mut(|m| m.behind || keep(m, text.clone(), &feedback));
            }
            DeliveryKind::Snapshot { member, text } => {
                if let Some(at) = members.iter().position(|m| m.member == member) {
                    let m = &mut members[at];
                    m.behind = false;
                    if !keep(m, text, &feedback) {
                        members.swap_remove(at);
                    }
                }
            }
            DeliveryKind::Sweep => members.retain(|m| {
                let open = !m.out.is_closed();
                if !open {
                    feedback.gone(m.member);
                }
                open
            }),
        }
        if members.is_empty() {
            rooms.remove(&session);
        }
    }
}

/// Queue `text` for `m`; whether it is still a member. One whose outbox is full
/// is behind from now on, and the room hears of it.
fn keep(m: &mut Local, text: ByteString, feedback: &Feedback) -> bool {
    match queue(&m.out, text) {
        Queued::Taken => true,
        Queued::Full => {
            m.behind = true;
            feedback.behind(m.member);
            true
        }
        Queued::Gone => {
            feedback.gone(m.member);
            false
        }
    }
}

async fn deliver_as_they_come(relay: Rc<WorkerRelay>) {
    loop {
        let next = std::future::poll_fn(|cx| relay.deliveries.borrow_mut().poll_recv(cx)).await;
        let Some(delivery) = next else { return };
        relay.deliver(delivery);
        relay.flush();
    }
}
