//! `RoomActor`: one session's live room. It owns who is present and the room's
//! content; commands queue while a batch is being stored and are answered once it
//! has committed, then everyone in the room hears about them.
//!
//! Fan-out never waits for a client: every event is encoded once and handed to
//! each relay (one per thread serving connections, see `relay.rs`) that has
//! members here; the relay queues it for each of them. A member whose queue is
//! full is skipped from then on; on the room's next tick (every 100 ms) it gets a
//! fresh `ROOM_SNAPSHOT` instead of the events it missed. Poll results go out as
//! soon as a vote is stored if none went out in the last 100 ms, else on a later
//! tick; presence is coalesced on the tick. So each poll's results go out at most
//! ten times a second, each with a higher `seq`, and a vote in a quiet room is
//! heard at once.

use super::relay::{self, Delivery, DeliveryKind, Feedback, Relay};
use super::state::{Room, RoomCommand, RoomDone, RoomRefusal, Speaker};
use super::storage;
use crate::clock::{self, Clock, WallClock};
use crate::error::EngineError;
use crate::store::Store;
use actix::prelude::*;
use bytestring::ByteString;
use limelight_shared::ids::{SessionId, UserId};
use limelight_shared::room::{RESULTS_PER_SECOND, RoomSnapshot};
use limelight_shared::ws::ServerMessage;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Most commands in one transaction.
const MAX_BATCH: usize = 1024;
/// How often the room asks its relays for members whose connection ended
/// without leaving. Checking every member's queue on every tick would cost a room
/// of thousands more than everything else its tick does.
const SWEEP_PERIOD: Duration = Duration::from_secs(1);

/// Enter the room; its events, starting with a `ROOM_SNAPSHOT`, go to the member
/// through `relay`, which must know the member before it enters.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Enter {
    /// The connection's id.
    pub member: u64,
    /// Who.
    pub user: UserId,
    /// The relay of the thread that serves the connection.
    pub relay: Arc<dyn Relay>,
}

impl std::fmt::Debug for Enter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enter")
            .field("member", &self.member)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Leave the room.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Exit(pub u64);

/// A command; answered once stored.
#[derive(Debug, Message)]
#[rtype(result = "Result<RoomDone, EngineError>")]
pub struct Act {
    /// Who.
    pub speaker: Speaker,
    /// What.
    pub command: RoomCommand,
    /// The connection it came from, which must be in the room; `None` for REST.
    pub member: Option<u64>,
}

/// The room as it is now.
#[derive(Debug, Message)]
#[rtype(result = "Result<RoomSnapshot, EngineError>")]
pub struct GetRoomSnapshot;

/// Whether the room has been empty and unused for `0`.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct GetRoomIdle(pub Duration);

struct Member {
    user: UserId,
    relay: Arc<dyn Relay>,
}

type Pending = (
    Speaker,
    RoomCommand,
    oneshot::Sender<Result<RoomDone, EngineError>>,
);

/// One session's room.
pub struct RoomActor {
    session: SessionId,
    store: Store,
    clock: Arc<dyn Clock>,
    wall: Arc<dyn WallClock>,
    room: Option<Room>,
    members: HashMap<u64, Member>,
    /// The members' relays, each with how many members it serves here.
    relays: Vec<(Arc<dyn Relay>, usize)>,
    /// Filled by the relays, taken on the tick.
    feedback: Arc<Feedback>,
    /// Members to send a snapshot: new ones, and those whose queue was full.
    behind: Vec<u64>,
    presence_changed: bool,
    /// When poll results last went out, on the engine's clock.
    results_sent: Option<Duration>,
    queue: Vec<Pending>,
    looks: Vec<oneshot::Sender<Result<RoomSnapshot, EngineError>>>,
    /// Members who entered while the room was loading: answered once their
    /// snapshot has been handed to their relay.
    entering: Vec<oneshot::Sender<()>>,
    busy: bool,
    loading: bool,
    last_used: Duration,
    /// When the relays were last asked for ended connections.
    swept: Duration,
}

impl std::fmt::Debug for RoomActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomActor")
            .field("session", &self.session)
            .field("members", &self.members.len())
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

fn encode(message: &ServerMessage) -> Option<ByteString> {
    match serde_json::to_string(message) {
        Ok(s) => Some(ByteString::from(s)),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode a room event");
            None
        }
    }
}

fn refusal(r: RoomRefusal) -> EngineError {
    EngineError::Room(r)
}

impl RoomActor {
    /// A room for `session`; it loads from the database when it starts. Its
    /// ticks run on `clock`; what is said is stamped with `wall` time.
    pub fn new(
        session: SessionId,
        store: Store,
        clock: Arc<dyn Clock>,
        wall: Arc<dyn WallClock>,
    ) -> Self {
        let now = clock.now();
        Self {
            session,
            store,
            clock,
            wall,
            room: None,
            members: HashMap::new(),
            relays: Vec::new(),
            feedback: Arc::new(Feedback::default()),
            behind: Vec::new(),
            presence_changed: false,
            results_sent: None,
            queue: Vec::new(),
            looks: Vec::new(),
            entering: Vec::new(),
            busy: false,
            loading: false,
            last_used: now,
            swept: now,
        }
    }

    fn present(&self) -> u64 {
        let mut users: Vec<UserId> = self.members.values().map(|m| m.user).collect();
        users.sort_unstable();
        users.dedup();
        users.len() as u64
    }

    fn load(&mut self, ctx: &mut Context<Self>) {
        if self.loading || self.room.is_some() {
            return;
        }
        self.loading = true;
        let (store, session) = (self.store.clone(), self.session);
        let fut = async move { storage::load(&store, session).await };
        ctx.spawn(fut.into_actor(self).map(|loaded, act, ctx| {
            act.loading = false;
            match loaded {
                Ok(room) => {
                    act.room = Some(room);
                    act.behind = act.members.keys().copied().collect();
                    act.resynchronise();
                    act.answer_entering();
                    act.answer_looks();
                    act.kick(ctx);
                }
                Err(e) => {
                    tracing::error!(session = %act.session, error = %e, "room could not load; retrying");
                    // Entering members are in; their snapshot follows the load.
                    act.answer_entering();
                    for look in act.looks.drain(..) {
                        let _ = look.send(Err(EngineError::Unavailable(
                            "the room could not be loaded; retry"
                        )));
                    }
                    clock::run_later(ctx, &act.clock, Duration::from_secs(1), |act, ctx| {
                        act.load(ctx)
                    });
                }
            }
        }));
    }

    fn answer_entering(&mut self) {
        for entered in self.entering.drain(..) {
            let _ = entered.send(());
        }
    }

    fn answer_looks(&mut self) {
        if let Some(room) = &self.room {
            let snapshot = room.snapshot(self.present());
            for look in self.looks.drain(..) {
                let _ = look.send(Ok(snapshot.clone()));
            }
        }
    }

    /// Decide and store the queued commands, unless a batch is running.
    fn kick(&mut self, ctx: &mut Context<Self>) {
        if self.busy || self.queue.is_empty() {
            return;
        }
        let Some(mut room) = self.room.take() else {
            self.load(ctx);
            return;
        };
        self.busy = true;
        let take = self.queue.len().min(MAX_BATCH);
        let batch: Vec<Pending> = self.queue.drain(..take).collect();
        let (store, session, now) = (self.store.clone(), self.session, self.wall.now());
        let mut decided = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for (speaker, command, reply) in batch {
            let moderation = matches!(
                command,
                RoomCommand::ModerateMessage { .. } | RoomCommand::SetPollStatus { .. }
            );
            decided.push((moderation, room.apply(&speaker, command, now)));
            replies.push(reply);
        }
        let writes = room.take_writes();
        let fut = async move { storage::save(&store, session, writes, now).await };
        ctx.spawn(fut.into_actor(self).map(move |saved, act, ctx| {
            act.busy = false;
            match saved {
                Ok(()) => {
                    act.room = Some(room);
                    act.answer_looks();
                    for ((moderation, outcome), reply) in decided.into_iter().zip(replies) {
                        if let Ok(done) = &outcome {
                            act.announce(done, moderation);
                        }
                        let _ = reply.send(outcome.map_err(refusal));
                    }
                    act.publish_results();
                    // Members who entered during the batch: their snapshot
                    // includes it.
                    if !act.entering.is_empty() {
                        act.resynchronise();
                        act.answer_entering();
                    }
                }
                Err(e) => {
                    tracing::error!(session = %act.session, error = %e, "room batch failed");
                    for reply in replies {
                        let _ = reply.send(Err(EngineError::Unavailable(
                            "the room could not store this; nothing changed, retry",
                        )));
                    }
                    // What was decided is not stored: start again from the rows.
                    act.load(ctx);
                }
            }
            act.kick(ctx);
        }));
    }

    /// Tell the room about a stored change.
    fn announce(&mut self, done: &RoomDone, moderation: bool) {
        let session = self.session;
        let message = match done {
            RoomDone::Message(m) if moderation => ServerMessage::MessageUpdated {
                session,
                message: m.clone(),
            },
            RoomDone::Message(m) => ServerMessage::MessageReceived {
                session,
                message: m.clone(),
            },
            RoomDone::Poll(p) => ServerMessage::PollCreated {
                session,
                poll: p.clone(),
            },
            RoomDone::Question(q) => ServerMessage::QuestionUpdated {
                session,
                question: q.clone(),
            },
            // Results go out after the batch, or on the tick.
            RoomDone::Voted => return,
        };
        self.broadcast(&message);
    }

    /// Hand an event to every relay with members here; never waits.
    fn broadcast(&mut self, message: &ServerMessage) {
        if let Some(text) = encode(message) {
            self.deliver_all(DeliveryKind::Event(text));
        }
    }

    fn deliver_all(&self, kind: DeliveryKind) {
        for (relay, _) in &self.relays {
            relay.relay(self.delivery(kind.clone()));
        }
    }

    fn delivery(&self, kind: DeliveryKind) -> Delivery {
        Delivery {
            session: self.session,
            kind,
            feedback: self.feedback.clone(),
        }
    }

    fn add_member(&mut self, member: u64, user: UserId, relay: Arc<dyn Relay>) {
        self.remove_member(member);
        match self.relays.iter_mut().find(|(r, _)| relay::same(r, &relay)) {
            Some((_, count)) => *count += 1,
            None => self.relays.push((relay.clone(), 1)),
        }
        self.members.insert(member, Member { user, relay });
        self.behind.push(member);
        self.presence_changed = true;
    }

    fn remove_member(&mut self, member: u64) {
        let Some(gone) = self.members.remove(&member) else {
            return;
        };
        if let Some(at) = self
            .relays
            .iter()
            .position(|(r, _)| relay::same(r, &gone.relay))
        {
            self.relays[at].1 -= 1;
            if self.relays[at].1 == 0 {
                self.relays.swap_remove(at);
            }
        }
        self.presence_changed = true;
    }

    /// Results of polls with new votes, unless results went out less than 100 ms ago
    /// (the tick sends them then).
    fn publish_results(&mut self) {
        let period = Duration::from_secs(1) / RESULTS_PER_SECOND;
        let now = self.clock.now();
        if self
            .results_sent
            .is_some_and(|t| now.saturating_sub(t) < period)
        {
            return;
        }
        let Some(room) = &mut self.room else {
            return;
        };
        let results = room.take_results();
        if results.is_empty() {
            return;
        }
        self.results_sent = Some(now);
        let session = self.session;
        for poll in results {
            self.broadcast(&ServerMessage::PollResults { session, poll });
        }
    }

    /// Every 100 ms: what the relays reported, poll results and presence, and
    /// snapshots for members that fell behind; every second, a sweep for members
    /// whose connection has ended without leaving.
    fn tick(&mut self) {
        for member in self.feedback.take_gone() {
            self.remove_member(member);
        }
        let fell_behind = self.feedback.take_behind();
        if !fell_behind.is_empty() {
            metrics::counter!("limelight_room_resyncs_total").increment(fell_behind.len() as u64);
            self.behind.extend(fell_behind);
        }
        let now = self.clock.now();
        if now.saturating_sub(self.swept) >= SWEEP_PERIOD {
            self.swept = now;
            // A connection leaves its rooms when it ends (it lives as long as its
            // client answers the WebSocket heartbeat); this catches one that
            // could not. What the relays find comes back on a later tick.
            self.deliver_all(DeliveryKind::Sweep);
        }
        self.publish_results();
        let session = self.session;
        if std::mem::take(&mut self.presence_changed) {
            let present = self.present();
            metrics::gauge!("limelight_room_members").set(self.members.len() as f64);
            self.broadcast(&ServerMessage::PresenceUpdate { session, present });
        }
        self.resynchronise();
    }

    /// A snapshot of the room as it stands for each member that is behind. One
    /// whose queue is still full is reported again and gets another on a later
    /// tick.
    fn resynchronise(&mut self) {
        if self.behind.is_empty() {
            return;
        }
        let Some(room) = &self.room else {
            return;
        };
        let snapshot = ServerMessage::RoomSnapshot {
            snapshot: room.snapshot(self.present()),
        };
        let Some(text) = encode(&snapshot) else {
            return;
        };
        let mut behind = std::mem::take(&mut self.behind);
        behind.sort_unstable();
        behind.dedup();
        for member in behind {
            if let Some(m) = self.members.get(&member) {
                let text = text.clone();
                m.relay
                    .relay(self.delivery(DeliveryKind::Snapshot { member, text }));
            }
        }
    }
}

impl Actor for RoomActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1 << 16);
        self.load(ctx);
        let every = Duration::from_secs(1) / RESULTS_PER_SECOND;
        clock::run_every(ctx, self.clock.clone(), every, |act, _| act.tick());
    }
}

impl actix::Supervised for RoomActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        tracing::warn!(session = %self.session, "room restarting; reloading from the database");
        self.room = None;
        self.busy = false;
        self.loading = false;
    }
}

impl Handler<Enter> for RoomActor {
    type Result = ResponseFuture<()>;

    /// Answered once the member's snapshot has been handed to its relay: at once if the room
    /// is at rest, else when the load or the batch under way has finished. So the
    /// snapshot is queued before the join's ack.
    fn handle(&mut self, msg: Enter, _: &mut Context<Self>) -> Self::Result {
        self.last_used = self.clock.now();
        self.add_member(msg.member, msg.user, msg.relay);
        if self.room.is_some() {
            self.resynchronise();
            return Box::pin(async {});
        }
        let (tx, rx) = oneshot::channel();
        self.entering.push(tx);
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

impl Handler<Exit> for RoomActor {
    type Result = ();

    fn handle(&mut self, msg: Exit, _: &mut Context<Self>) {
        self.last_used = self.clock.now();
        self.remove_member(msg.0);
    }
}

impl Handler<Act> for RoomActor {
    type Result = ResponseFuture<Result<RoomDone, EngineError>>;

    fn handle(&mut self, msg: Act, ctx: &mut Context<Self>) -> Self::Result {
        self.last_used = self.clock.now();
        if let Some(member) = msg.member
            && !self.members.contains_key(&member)
        {
            let session = self.session.0;
            return Box::pin(async move {
                Err(EngineError::Room(RoomRefusal::NotInRoom(SessionId(
                    session,
                ))))
            });
        }
        let (tx, rx) = oneshot::channel();
        self.queue.push((msg.speaker, msg.command, tx));
        self.kick(ctx);
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(EngineError::broken("the room stopped")))
        })
    }
}

impl Handler<GetRoomSnapshot> for RoomActor {
    type Result = ResponseFuture<Result<RoomSnapshot, EngineError>>;

    fn handle(&mut self, _: GetRoomSnapshot, ctx: &mut Context<Self>) -> Self::Result {
        self.last_used = self.clock.now();
        if let Some(room) = &self.room {
            let snapshot = room.snapshot(self.present());
            return Box::pin(async move { Ok(snapshot) });
        }
        let (tx, rx) = oneshot::channel();
        self.looks.push(tx);
        // A running batch hands the room back and answers; otherwise load it.
        if !self.busy {
            self.load(ctx);
        }
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(EngineError::broken("the room stopped")))
        })
    }
}

impl Handler<GetRoomIdle> for RoomActor {
    type Result = bool;

    fn handle(&mut self, msg: GetRoomIdle, _: &mut Context<Self>) -> bool {
        self.members.is_empty()
            && self.queue.is_empty()
            && !self.busy
            && self.clock.now().saturating_sub(self.last_used) >= msg.0
    }
}

#[cfg(test)]
mod tests {
    //! On a manual clock: each test moves time itself and waits for what the room
    //! hands its relays, never for time to pass.

    use super::*;
    use crate::clock::{ManualClock, ManualWallClock};
    use crate::store::{Direction, migrate};
    use std::collections::HashSet;
    use std::sync::{Mutex, MutexGuard, PoisonError};
    use tokio::sync::mpsc;

    type Outcome = Result<(), Box<dyn std::error::Error>>;

    /// The room's tick.
    const TICK: Duration = Duration::from_millis(100);

    fn held<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What a relay was handed.
    #[derive(Debug, Clone, PartialEq)]
    enum Seen {
        Event(String),
        Snapshot(u64),
        Sweep,
    }

    /// The connections of one thread: each takes everything until it ends, and a
    /// sweep reports those that have ended. Every delivery is also reported to
    /// the test.
    struct Connections {
        ended: Mutex<HashSet<u64>>,
        snapshots: Mutex<Vec<u64>>,
        feedback: Mutex<Option<Arc<Feedback>>>,
        seen: mpsc::UnboundedSender<Seen>,
    }

    impl Connections {
        fn new() -> (Arc<Self>, mpsc::UnboundedReceiver<Seen>) {
            let (seen, rx) = mpsc::unbounded_channel();
            let connections = Self {
                ended: Mutex::default(),
                snapshots: Mutex::default(),
                feedback: Mutex::default(),
                seen,
            };
            (Arc::new(connections), rx)
        }
    }

    impl Relay for Connections {
        fn relay(&self, delivery: Delivery) {
            *held(&self.feedback) = Some(delivery.feedback.clone());
            let seen = match delivery.kind {
                DeliveryKind::Event(text) => Seen::Event(text.to_string()),
                DeliveryKind::Snapshot { member, .. } => {
                    held(&self.snapshots).push(member);
                    Seen::Snapshot(member)
                }
                DeliveryKind::Sweep => {
                    for member in held(&self.ended).iter() {
                        delivery.feedback.gone(*member);
                    }
                    Seen::Sweep
                }
            };
            let _ = self.seen.send(seen);
        }
    }

    /// Wait for a delivery that passes `wanted`; the deadline only bounds a failure.
    async fn until(
        seen: &mut mpsc::UnboundedReceiver<Seen>,
        wanted: impl Fn(&Seen) -> bool,
    ) -> Result<Seen, String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::time::timeout_at(deadline, seen.recv()).await {
                Ok(Some(s)) if wanted(&s) => return Ok(s),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return Err("the awaited delivery never came".into()),
            }
        }
    }

    fn presence(present: u64) -> impl Fn(&Seen) -> bool {
        move |s| {
            matches!(s, Seen::Event(text)
                if text.contains("PRESENCE_UPDATE") && text.contains(&format!("\"present\":{present}")))
        }
    }

    async fn room()
    -> Result<(tempfile::TempDir, ManualClock, Addr<RoomActor>), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("rooms.db").display());
        migrate(&url, Direction::Up).await?;
        let store = Store::open(&url).await?;
        let clock = ManualClock::new();
        let wall = ManualWallClock::new(clock.clone(), chrono::Utc::now());
        let room =
            RoomActor::new(SessionId(1), store, Arc::new(clock.clone()), Arc::new(wall)).start();
        Ok((dir, clock, room))
    }

    #[actix_rt::test]
    async fn a_member_whose_connection_ended_without_leaving_is_dropped_by_the_sweep() -> Outcome {
        let (_dir, clock, room) = room().await?;
        let (connections, mut seen) = Connections::new();
        for member in [1, 2] {
            let (user, relay) = (UserId(member as i64), connections.clone());
            room.send(Enter {
                member,
                user,
                relay,
            })
            .await?;
        }
        assert_eq!(room.send(GetRoomSnapshot).await??.present, 2);
        // Presence goes out on the next tick; after it the room broadcasts
        // nothing, so only the sweep can notice the ended connection.
        clock.advance(TICK);
        until(&mut seen, presence(2)).await?;
        held(&connections.ended).insert(1);
        clock.advance(SWEEP_PERIOD);
        until(&mut seen, |s| *s == Seen::Sweep).await?;
        // What the sweep found is taken up on the next tick.
        clock.advance(TICK);
        until(&mut seen, presence(1)).await?;
        assert_eq!(room.send(GetRoomSnapshot).await??.present, 1);
        Ok(())
    }

    #[actix_rt::test]
    async fn a_member_reported_behind_gets_one_snapshot_through_its_own_relay() -> Outcome {
        let (_dir, clock, room) = room().await?;
        let (first, _first_seen) = Connections::new();
        let (second, mut second_seen) = Connections::new();
        for (member, relay) in [(1, first.clone()), (2, second.clone()), (3, second.clone())] {
            let user = UserId(member as i64);
            room.send(Enter {
                member,
                user,
                relay,
            })
            .await?;
        }
        // Each member's join snapshot went to its own relay.
        assert_eq!(*held(&first.snapshots), [1]);
        assert_eq!(*held(&second.snapshots), [2, 3]);
        // Member 3 is reported behind twice before the room's next tick: it gets
        // one snapshot, through the relay that serves it.
        let feedback = held(&second.feedback).clone().ok_or("no delivery")?;
        feedback.behind(3);
        feedback.behind(3);
        while second_seen.try_recv().is_ok() {}
        clock.advance(TICK);
        until(&mut second_seen, |s| *s == Seen::Snapshot(3)).await?;
        assert_eq!(*held(&first.snapshots), [1]);
        assert_eq!(*held(&second.snapshots), [2, 3, 3]);
        Ok(())
    }
}
