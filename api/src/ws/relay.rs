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

use super::outbound::{self, Outbox, Outgoing, Refused};
use actix_web::web::Bytes;
use actix_ws::Message;
use bytestring::ByteString;
use limelight_engine::{Delivery, DeliveryKind, Feedback, Relay};
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

/// Queue `frame` unless fewer than `REPLY_HEADROOM` places would be left.
fn queue(out: &Outbox, frame: &Bytes) -> Result<(), Refused> {
    if !out.is_closed() && out.capacity() <= REPLY_HEADROOM {
        return Err(Refused::Full);
    }
    out.try_push(Outgoing::Frame(frame.clone()))
}

/// An event's text as one WebSocket frame, encoded once for all who get it.
fn frame(text: ByteString) -> Option<Bytes> {
    outbound::frame(Message::Text(text))
        .inspect_err(|e| tracing::error!(error = %e, "cannot frame a room event"))
        .ok()
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
                let Some(frame) = frame(text) else { return };
                members.retain_mut(|m| m.behind || keep(m, &frame, &feedback));
            }
            DeliveryKind::Snapshot { member, text } => {
                if let Some(at) = members.iter().position(|m| m.member == member)
                    && let Some(frame) = frame(text)
                {
                    let m = &mut members[at];
                    m.behind = false;
                    if !keep(m, &frame, &feedback) {
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
fn keep(m: &mut Local, frame: &Bytes, feedback: &Feedback) -> bool {
    match queue(&m.out, frame) {
        Ok(()) => true,
        Err(Refused::Full) => {
            m.behind = true;
            feedback.behind(m.member);
            true
        }
        Err(Refused::Closed) => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::HttpResponse;
    use actix_web::body::{BoxBody, MessageBody, to_bytes};
    use std::pin::Pin;

    const ROOM: SessionId = SessionId(7);

    fn outbox(capacity: usize) -> (Outbox, BoxBody) {
        let response = HttpResponse::SwitchingProtocols().finish();
        let (response, out) = outbound::attach(response, capacity);
        (out, response.into_body())
    }

    fn send(relay: &WorkerRelay, feedback: &Arc<Feedback>, kind: DeliveryKind) {
        let feedback = feedback.clone();
        relay.handle().relay(Delivery {
            session: ROOM,
            kind,
            feedback,
        });
        relay.flush();
    }

    fn event(text: &str) -> DeliveryKind {
        DeliveryKind::Event(text.into())
    }

    fn snapshot(member: u64) -> DeliveryKind {
        DeliveryKind::Snapshot {
            member,
            text: "s".into(),
        }
    }

    #[actix_rt::test]
    async fn members_hear_events_once_caught_up_and_a_full_outbox_is_reported_once()
    -> Result<(), Box<dyn std::error::Error>> {
        let relay = WorkerRelay::current();
        let feedback = Arc::new(Feedback::default());
        let (roomy, roomy_body) = outbox(256);
        // Room for one room event beside the headroom kept for replies.
        let (tight, mut tight_body) = outbox(REPLY_HEADROOM + 1);
        relay.join(ROOM, 1, roomy);
        relay.join(ROOM, 2, tight.clone());

        // Nobody hears events before their snapshot.
        send(&relay, &feedback, event("early"));
        send(&relay, &feedback, snapshot(1));
        send(&relay, &feedback, snapshot(2));
        assert_eq!(tight.capacity(), REPLY_HEADROOM);
        assert!(feedback.take_behind().is_empty());

        // The tight outbox has no room left for events: its member is behind,
        // reported once, and skipped from then on.
        send(&relay, &feedback, event("e1"));
        send(&relay, &feedback, event("e2"));
        assert_eq!(feedback.take_behind(), [2]);
        assert_eq!(tight.capacity(), REPLY_HEADROOM);

        // A snapshot that does not fit is reported again; once the connection
        // has sent what it held, the next one catches the member up.
        send(&relay, &feedback, snapshot(2));
        assert_eq!(feedback.take_behind(), [2]);
        let held = next_chunk(&mut tight_body).await?;
        assert_eq!(&held[..], b"\x81\x01s");
        send(&relay, &feedback, snapshot(2));
        assert_eq!(&next_chunk(&mut tight_body).await?[..], b"\x81\x01s");
        send(&relay, &feedback, event("e3"));
        assert_eq!(&next_chunk(&mut tight_body).await?[..], b"\x81\x02e3");
        assert!(feedback.take_behind().is_empty());

        relay.leave(ROOM, 1);
        let heard = to_bytes(roomy_body).await.map_err(|e| e.to_string())?;
        assert_eq!(&heard[..], b"\x81\x01s\x81\x02e1\x81\x02e2\x81\x02e3");
        assert!(feedback.take_gone().is_empty());
        Ok(())
    }

    /// What the body hands actix-web next.
    async fn next_chunk(body: &mut BoxBody) -> Result<Bytes, Box<dyn std::error::Error>> {
        let chunk = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_next(cx)).await;
        Ok(chunk.ok_or("the body ended")?.map_err(|e| e.to_string())?)
    }

    #[actix_rt::test]
    async fn a_sweep_reports_members_whose_connection_ended() {
        let relay = WorkerRelay::current();
        let feedback = Arc::new(Feedback::default());
        let (open, _open_body) = outbox(64);
        let (ended, ended_body) = outbox(64);
        relay.join(ROOM, 1, open);
        relay.join(ROOM, 2, ended);
        drop(ended_body);
        send(&relay, &feedback, DeliveryKind::Sweep);
        assert_eq!(feedback.take_gone(), [2]);
        // It was dropped: a second sweep finds nothing.
        send(&relay, &feedback, DeliveryKind::Sweep);
        assert!(feedback.take_gone().is_empty());
    }
}
