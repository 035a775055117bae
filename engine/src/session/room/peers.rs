//! How one room spans several nodes (when `redis_url` is set). One node at a
//! time owns a session's room: it holds the room's lease in Redis, decides and
//! stores every command, and publishes each event on the room's bus channel.
//! Every other node with members in the room follows: it forwards its members'
//! commands to the owner on the room's inbox channel, tells the owner which of
//! its users are present, and hands the owner's events to its own members. A
//! follower keeps the room as its members see it (a [`Replica`]) for those who
//! join or fall behind; when the bus reports a gap, it reads the room back from
//! the database, and every member gets a fresh snapshot.
//!
//! A lease lasts [`LEASE`] and its holder renews it every [`RENEW`]; an owner
//! that could not renew in time stops deciding. The owner also tells its
//! followers it is there every [`RENEW`], and a follower claims the lease only
//! after hearing nothing from the owner for a whole [`LEASE`]: so a Redis that
//! restarted empty (the lease gone with it) gets its owner back, not a second
//! one. When the owner's node dies, its lease lapses and the first follower to
//! ask takes the room over from the database. Everything here is plain Rust except [`Peers`], which talks to
//! Redis off the room's thread.

use super::RoomCommand;
use super::state::{RoomDone, RoomRefusal, SNAPSHOT_MESSAGES, Speaker};
use crate::bus::{Bus, lease};
use limelight_shared::ids::{SessionId, UserId};
use limelight_shared::room::RoomSnapshot;
use limelight_shared::ws::ServerMessage;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a lease holds without being renewed.
pub const LEASE: Duration = Duration::from_secs(10);
/// How often the holder renews its lease, and a follower asks whether the
/// owner is still there.
pub const RENEW: Duration = Duration::from_secs(3);
/// How long a follower waits for the owner's answer to a forwarded command.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a follower repeats who of its users are present.
pub const PRESENCE_EVERY: Duration = Duration::from_secs(3);
/// How long the owner counts a follower's users without hearing from it again.
pub const PRESENCE_TTL: Duration = Duration::from_secs(10);

/// What a follower sends the owner, on the room's inbox channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToOwner {
    /// A member's command, to decide and store.
    Command {
        /// The follower.
        node: String,
        /// The follower's number for it, named in the reply.
        request: u64,
        /// Who.
        speaker: Speaker,
        /// What.
        command: RoomCommand,
    },
    /// The users this follower has in the room now (empty when it has none).
    Presence {
        /// The follower.
        node: String,
        /// Its users, each once.
        users: Vec<UserId>,
        /// Send the count even if this changes nothing: the follower has just
        /// read the room back and does not know it.
        #[serde(default)]
        ask: bool,
    },
}

/// What the owner sends its followers, on the room's channel.
#[derive(Debug, Clone, PartialEq)]
pub enum FromOwner {
    /// An event for every member (`ServerMessage` JSON).
    Event(String),
    /// The outcome of a forwarded command.
    Reply(Reply),
    /// The owner is there (sent every [`RENEW`] while it has followers).
    Alive,
}

/// The owner's answer to one forwarded command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The follower that forwarded it.
    pub node: String,
    /// The follower's number for it.
    pub request: u64,
    /// What came of it.
    pub outcome: Outcome,
}

/// What came of a forwarded command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Stored; what it made.
    Done(RoomDone),
    /// The room said no; nothing changed.
    Refused(RoomRefusal),
    /// The owner could not store it; nothing changed.
    Failed,
}

impl FromOwner {
    /// The bus body: a one-letter kind, a space, then the JSON, so an event's
    /// text goes to members as it came.
    pub fn encode(&self) -> Option<String> {
        match self {
            Self::Event(text) => Some(format!("E {text}")),
            Self::Reply(reply) => serde_json::to_string(reply).ok().map(|r| format!("R {r}")),
            Self::Alive => Some("A ".to_owned()),
        }
    }

    /// A bus body back; `None` for one this version does not know.
    pub fn decode(body: &str) -> Option<Self> {
        let (kind, rest) = body.split_once(' ')?;
        match kind {
            "E" => Some(Self::Event(rest.to_owned())),
            "R" => serde_json::from_str(rest).ok().map(Self::Reply),
            "A" => Some(Self::Alive),
            _ => None,
        }
    }
}

/// The channel the owner publishes a room's events and replies on.
pub fn room_channel(session: SessionId) -> String {
    format!("room:{session}")
}

/// The channel followers send a room's owner commands and presence on.
pub fn inbox_channel(session: SessionId) -> String {
    format!("room-inbox:{session}")
}

fn lease_key(session: SessionId) -> String {
    format!("limelight:room-owner:{session}")
}

/// One message to publish.
enum Outgoing {
    /// Published in order, retried until Redis takes it: a stored event must
    /// reach the stream, however late.
    Kept { channel: String, body: String },
    /// Tried once, and only before `deadline`: a forwarded command that did
    /// not go out must not go out later, after its sender was told it failed.
    /// Its number goes to `failed` if it was not published.
    Once {
        channel: String,
        body: String,
        request: u64,
        failed: mpsc::UnboundedSender<u64>,
        deadline: tokio::time::Instant,
    },
}

/// A room's way to the other nodes: its lease and an ordered outbox.
#[derive(Debug, Clone)]
pub struct Peers {
    bus: Bus,
    node: String,
    outbox: mpsc::UnboundedSender<Outgoing>,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Kept { channel, .. } | Self::Once { channel, .. } => f
                .debug_struct("Outgoing")
                .field("channel", channel)
                .finish(),
        }
    }
}

impl Peers {
    /// Peers through `bus` for node `node`; the outbox runs on the current
    /// arbiter (the room's), publishing one message at a time.
    pub fn new(bus: Bus, node: String) -> Self {
        let (outbox, rx) = mpsc::unbounded_channel();
        actix::spawn(publish_in_order(bus.clone(), rx));
        Self { bus, node, outbox }
    }

    /// This node's name.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The bus, to listen on.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Who holds `session`'s lease once this node has claimed or renewed it.
    pub fn claim(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Result<String, String>> + use<> {
        let (bus, node) = (self.bus.clone(), self.node.clone());
        async move { lease::claim(bus.redis(), &lease_key(session), &node, LEASE).await }
    }

    /// Give `session`'s lease up if this node holds it.
    pub fn release(&self, session: SessionId) -> impl Future<Output = ()> + use<> {
        let (bus, node) = (self.bus.clone(), self.node.clone());
        async move {
            if let Err(e) = lease::release(bus.redis(), &lease_key(session), &node).await {
                tracing::warn!(%session, error = %e, "a room's lease could not be given up; it lapses");
            }
        }
    }

    /// Publish `message` for `session`'s followers, after everything before it.
    pub fn to_followers(&self, session: SessionId, message: &FromOwner) {
        if let Some(body) = message.encode() {
            let _ = self.outbox.send(Outgoing::Kept {
                channel: room_channel(session),
                body,
            });
        }
    }

    /// Tell `session`'s owner who of this node's users are present.
    pub fn presence(&self, session: SessionId, users: Vec<UserId>, ask: bool) {
        let note = ToOwner::Presence {
            node: self.node.clone(),
            users,
            ask,
        };
        if let Ok(body) = serde_json::to_string(&note) {
            let _ = self.outbox.send(Outgoing::Kept {
                channel: inbox_channel(session),
                body,
            });
        }
    }

    /// Forward a command to `session`'s owner as request `request`; if it
    /// cannot be published, `request` goes to `failed`.
    pub fn forward(
        &self,
        session: SessionId,
        request: u64,
        speaker: Speaker,
        command: RoomCommand,
        failed: mpsc::UnboundedSender<u64>,
    ) {
        let note = ToOwner::Command {
            node: self.node.clone(),
            request,
            speaker,
            command,
        };
        match serde_json::to_string(&note) {
            Ok(body) => {
                // Published well before the follower gives up on it, or not at all.
                let deadline =
                    tokio::time::Instant::now() + FORWARD_TIMEOUT - Duration::from_secs(1);
                let _ = self.outbox.send(Outgoing::Once {
                    channel: inbox_channel(session),
                    body,
                    request,
                    failed,
                    deadline,
                });
            }
            Err(_) => {
                let _ = failed.send(request);
            }
        }
    }
}

/// Publish each message in turn; a kept one is tried again, with backoff,
/// until Redis takes it.
async fn publish_in_order(bus: Bus, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    while let Some(out) = rx.recv().await {
        match out {
            Outgoing::Kept { channel, body } => {
                let mut wait = Duration::from_millis(50);
                while let Err(e) = bus.publish(&channel, &body).await {
                    tracing::warn!(%channel, error = %e, "a room event waits for Redis");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
            }
            Outgoing::Once {
                channel,
                body,
                request,
                failed,
                deadline,
            } => {
                let publish = tokio::time::timeout_at(deadline, bus.publish(&channel, &body));
                if !matches!(publish.await, Ok(Ok(()))) {
                    let _ = failed.send(request);
                }
            }
        }
    }
}

/// The room as a follower's members see it: the snapshot read from the
/// database, brought up to date by the owner's events. Each event carries the
/// whole of what it changed, so applying one again, or an older one after the
/// snapshot already has its effect, comes out right once the events after it
/// are applied too.
#[derive(Debug, Clone)]
pub struct Replica {
    snapshot: RoomSnapshot,
}

impl Replica {
    /// A replica starting from `snapshot`.
    pub fn new(snapshot: RoomSnapshot) -> Self {
        Self { snapshot }
    }

    /// The room now.
    pub fn snapshot(&self) -> &RoomSnapshot {
        &self.snapshot
    }

    /// Take one of the owner's events.
    pub fn apply(&mut self, event: &ServerMessage) {
        let s = &mut self.snapshot;
        match event {
            ServerMessage::MessageReceived { message, .. }
            | ServerMessage::MessageUpdated { message, .. } => {
                match s.messages.iter_mut().find(|m| m.id == message.id) {
                    Some(m) => *m = message.clone(),
                    None => s.messages.push(message.clone()),
                }
                s.messages.sort_by(|a, b| a.at.cmp(&b.at));
                // The latest messages, and pinned ones however old.
                let cut = s.messages.len().saturating_sub(SNAPSHOT_MESSAGES);
                let mut at = 0;
                s.messages.retain(|m| {
                    at += 1;
                    at > cut || m.pinned
                });
            }
            ServerMessage::PollCreated { poll, .. } => {
                match s.polls.iter_mut().find(|p| p.id == poll.id) {
                    Some(p) => *p = poll.clone(),
                    None => s.polls.insert(0, poll.clone()),
                }
            }
            ServerMessage::PollResults { poll, .. } => {
                match s.polls.iter_mut().find(|p| p.id == poll.id) {
                    Some(p) if p.seq <= poll.seq => *p = poll.clone(),
                    Some(_) => {}
                    None => s.polls.insert(0, poll.clone()),
                }
            }
            ServerMessage::QuestionUpdated { question, .. } => {
                match s.questions.iter_mut().find(|q| q.id == question.id) {
                    Some(q) => *q = question.clone(),
                    None => s.questions.push(question.clone()),
                }
                s.questions.sort_by(|a, b| {
                    b.pinned
                        .cmp(&a.pinned)
                        .then(b.upvotes.cmp(&a.upvotes))
                        .then(a.at.cmp(&b.at))
                });
            }
            ServerMessage::PresenceUpdate { present, .. } => s.present = *present,
            _ => {}
        }
    }
}

/// The users the owner hears each follower has in the room.
#[derive(Debug, Default)]
pub struct RemotePresence {
    /// By node: its users and when it last told (engine clock).
    nodes: HashMap<String, (Vec<UserId>, Duration)>,
}

impl RemotePresence {
    /// `node` has `users` in the room at `now`; whether that changes the count's inputs.
    pub fn heard(&mut self, node: String, mut users: Vec<UserId>, now: Duration) -> bool {
        users.sort_unstable();
        users.dedup();
        let changed = match self.nodes.get(&node) {
            Some((known, _)) => *known != users,
            None => !users.is_empty(),
        };
        if users.is_empty() {
            self.nodes.remove(&node);
        } else {
            self.nodes.insert(node, (users, now));
        }
        changed
    }

    /// Forget nodes not heard from for [`PRESENCE_TTL`]; whether any were.
    pub fn expire(&mut self, now: Duration) -> bool {
        let before = self.nodes.len();
        self.nodes
            .retain(|_, (_, at)| now.saturating_sub(*at) < PRESENCE_TTL);
        self.nodes.len() != before
    }

    /// Every user some follower has in the room.
    pub fn users(&self) -> impl Iterator<Item = UserId> + '_ {
        self.nodes.values().flat_map(|(u, _)| u.iter().copied())
    }

    /// Whether some follower has members in the room.
    pub fn any(&self) -> bool {
        !self.nodes.is_empty()
    }

    /// Forget every follower (this node no longer owns the room).
    pub fn clear(&mut self) {
        self.nodes.clear();
    }
}

/// Commands a follower forwarded and waits to hear about.
#[derive(Debug)]
pub struct Forwarded<T> {
    next: u64,
    waiting: HashMap<u64, (T, Duration)>,
}

impl<T> Default for Forwarded<T> {
    fn default() -> Self {
        Self {
            next: 0,
            waiting: HashMap::new(),
        }
    }
}

impl<T> Forwarded<T> {
    /// Keep `reply` for a new request sent at `now`; its number.
    pub fn add(&mut self, reply: T, now: Duration) -> u64 {
        self.next += 1;
        self.waiting.insert(self.next, (reply, now));
        self.next
    }

    /// The reply of request `request`, if it still waits.
    pub fn take(&mut self, request: u64) -> Option<T> {
        self.waiting.remove(&request).map(|(reply, _)| reply)
    }

    /// Requests older than [`FORWARD_TIMEOUT`] at `now`.
    pub fn overdue(&mut self, now: Duration) -> Vec<T> {
        let late: Vec<u64> = self
            .waiting
            .iter()
            .filter(|(_, (_, at))| now.saturating_sub(*at) >= FORWARD_TIMEOUT)
            .map(|(id, _)| *id)
            .collect();
        late.into_iter().filter_map(|id| self.take(id)).collect()
    }

    /// Every request still waiting.
    pub fn drain(&mut self) -> Vec<T> {
        self.waiting.drain().map(|(_, (reply, _))| reply).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::room::{ChatMessage, Poll, PollKind, PollStatus, Question};

    fn message(id: &str, at: &str, pinned: bool) -> ChatMessage {
        ChatMessage {
            id: id.into(),
            user: UserId(1),
            username: "ann".into(),
            text: format!("text {id}"),
            pinned,
            deleted: false,
            at: at.into(),
        }
    }

    fn empty() -> Replica {
        Replica::new(RoomSnapshot {
            session: SessionId(1),
            present: 0,
            messages: Vec::new(),
            polls: Vec::new(),
            questions: Vec::new(),
        })
    }

    fn poll(seq: u64, voters: u64) -> Poll {
        Poll {
            id: "p".into(),
            question: "q".into(),
            options: vec!["a".into(), "b".into()],
            kind: PollKind::Single,
            status: PollStatus::Open,
            counts: vec![voters, 0],
            voters,
            seq,
        }
    }

    #[test]
    fn a_replica_keeps_the_latest_messages_and_pinned_ones_in_time_order() {
        let mut r = empty();
        let session = SessionId(1);
        r.apply(&ServerMessage::MessageReceived {
            session,
            message: message("old", "2026-01-01T00:00:00.000Z", true),
        });
        for i in 0..SNAPSHOT_MESSAGES + 5 {
            let at = format!("2026-01-02T00:00:{:02}.{:03}Z", i / 1000, i % 1000);
            r.apply(&ServerMessage::MessageReceived {
                session,
                message: message(&format!("m{i}"), &at, false),
            });
        }
        let messages = &r.snapshot().messages;
        assert_eq!(messages.len(), SNAPSHOT_MESSAGES + 1);
        assert_eq!(messages[0].id, "old");
        assert_eq!(messages[1].id, "m5");
        // Heard again (a replay), a message is not kept twice.
        let again = messages[3].clone();
        r.apply(&ServerMessage::MessageReceived {
            session,
            message: again,
        });
        assert_eq!(r.snapshot().messages.len(), SNAPSHOT_MESSAGES + 1);
    }

    #[test]
    fn a_replica_keeps_the_newest_results_and_sorts_questions_as_the_room_does() {
        let mut r = empty();
        let session = SessionId(1);
        r.apply(&ServerMessage::PollResults {
            session,
            poll: poll(3, 7),
        });
        r.apply(&ServerMessage::PollResults {
            session,
            poll: poll(2, 5),
        });
        assert_eq!(r.snapshot().polls[0].voters, 7);
        let question = |id: &str, upvotes: u64| Question {
            id: id.into(),
            user: UserId(1),
            username: "ann".into(),
            text: "why".into(),
            upvotes,
            answered: false,
            pinned: false,
            at: format!("2026-01-01T00:00:0{id}Z"),
        };
        r.apply(&ServerMessage::QuestionUpdated {
            session,
            question: question("1", 0),
        });
        r.apply(&ServerMessage::QuestionUpdated {
            session,
            question: question("2", 3),
        });
        let order: Vec<&str> = r
            .snapshot()
            .questions
            .iter()
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(order, ["2", "1"]);
        r.apply(&ServerMessage::PresenceUpdate {
            session,
            present: 4,
        });
        assert_eq!(r.snapshot().present, 4);
    }

    #[test]
    fn the_owner_counts_a_followers_users_until_it_falls_silent() {
        let mut p = RemotePresence::default();
        let s = Duration::from_secs;
        assert!(p.heard("b".into(), vec![UserId(2), UserId(2), UserId(3)], s(0)));
        assert!(!p.heard("b".into(), vec![UserId(3), UserId(2)], s(2)));
        assert_eq!(p.users().count(), 2);
        assert!(!p.expire(s(2) + PRESENCE_TTL - Duration::from_millis(1)));
        assert!(p.expire(s(2) + PRESENCE_TTL));
        assert!(!p.any());
        assert!(!p.heard("c".into(), Vec::new(), s(20)));
    }

    #[test]
    fn forwarded_requests_are_answered_once_or_fall_overdue() {
        let mut f = Forwarded::default();
        let a = f.add("a", Duration::ZERO);
        let b = f.add("b", Duration::from_secs(1));
        assert_ne!(a, b);
        assert_eq!(f.take(a), Some("a"));
        assert_eq!(f.take(a), None);
        assert!(f.overdue(FORWARD_TIMEOUT).is_empty());
        assert_eq!(f.overdue(FORWARD_TIMEOUT + Duration::from_secs(1)), ["b"]);
    }

    #[test]
    fn the_owners_messages_read_back_as_they_were_sent() {
        let event = FromOwner::Event(r#"{"type":"presence_update"}"#.into());
        let body = event.encode().unwrap_or_default();
        assert_eq!(FromOwner::decode(&body), Some(event));
        let reply = FromOwner::Reply(Reply {
            node: "n".into(),
            request: 4,
            outcome: Outcome::Refused(RoomRefusal::RateLimited),
        });
        let body = reply.encode().unwrap_or_default();
        assert_eq!(FromOwner::decode(&body), Some(reply));
        let body = FromOwner::Alive.encode().unwrap_or_default();
        assert_eq!(FromOwner::decode(&body), Some(FromOwner::Alive));
        assert_eq!(FromOwner::decode("X {}"), None);
    }
}
