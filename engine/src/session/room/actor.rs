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
//!
//! With other nodes (`peers.rs`), the room is the owner or a follower of the
//! session's room: the owner does all of the above and also publishes each event
//! for the followers; a follower forwards its members' commands to the owner and
//! hands the owner's events to its members.

use super::peers::{self, Forwarded, FromOwner, Outcome, Peers, RemotePresence, Replica, ToOwner};
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
use tokio::sync::{mpsc, oneshot};

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

/// Where a command's outcome goes.
enum Answer {
    /// To a caller on this node.
    Local(oneshot::Sender<Result<RoomDone, EngineError>>),
    /// To the follower that forwarded it.
    Remote { node: String, request: u64 },
}

type Pending = (Speaker, RoomCommand, Answer);

/// Who decides for the room.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// No other node: this one.
    Alone,
    /// Not known yet: Redis is being asked who holds the lease.
    Asking,
    /// This node, as the lease's holder until `until` (engine clock).
    Owner { until: Duration },
    /// Node `owner`.
    Follower { owner: String },
}

/// How a room talks to the other nodes, with what it keeps for them.
struct Cluster {
    peers: Peers,
    role: Role,
    /// Whether a claim of the lease is under way.
    asking: bool,
    /// Whether the last claim failed (Redis did not answer): asked again sooner.
    claim_failed: bool,
    /// When the lease was last claimed or asked about.
    asked: Option<Duration>,
    /// A follower's room, as its members see it.
    replica: Option<Replica>,
    /// Owner's events heard while the replica loads.
    early: Vec<String>,
    /// The owner's view of the followers' users.
    remote: RemotePresence,
    /// A follower's commands waiting for the owner's answer.
    forwarded: Forwarded<oneshot::Sender<Result<RoomDone, EngineError>>>,
    failed_tx: mpsc::UnboundedSender<u64>,
    failed_rx: mpsc::UnboundedReceiver<u64>,
    /// The bus channel this role listens to.
    listening: Option<SpawnHandle>,
    /// When a follower last told the owner who is present.
    presence_told: Option<Duration>,
    /// A follower's next presence note asks the owner for the count.
    ask_count: bool,
    /// When a follower last heard its owner, or the owner last said it is there.
    heard: Option<Duration>,
}

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
    /// The other nodes, when there are any.
    cluster: Option<Cluster>,
    /// Bumped whenever the role changes: a load or batch begun under an older
    /// role does not hand its room back.
    generation: u64,
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
            cluster: None,
            generation: 0,
        }
    }

    /// The room shared with other nodes through `peers` (none: this node alone).
    pub fn with_peers(mut self, peers: Option<Peers>) -> Self {
        self.cluster = peers.map(|peers| {
            let (failed_tx, failed_rx) = mpsc::unbounded_channel();
            Cluster {
                peers,
                role: Role::Asking,
                asking: false,
                claim_failed: false,
                asked: None,
                replica: None,
                early: Vec::new(),
                remote: RemotePresence::default(),
                forwarded: Forwarded::default(),
                failed_tx,
                failed_rx,
                listening: None,
                presence_told: None,
                ask_count: false,
                heard: None,
            }
        });
        self
    }

    fn role(&self) -> Role {
        self.cluster
            .as_ref()
            .map_or(Role::Alone, |c| c.role.clone())
    }

    fn local_users(&self) -> Vec<UserId> {
        let mut users: Vec<UserId> = self.members.values().map(|m| m.user).collect();
        users.sort_unstable();
        users.dedup();
        users
    }

    /// People present: this node's members and, on the owner, the followers'.
    fn present(&self) -> u64 {
        let mut users = self.local_users();
        if let Some(c) = &self.cluster {
            if let Some(replica) = &c.replica {
                return replica.snapshot().present;
            }
            users.extend(c.remote.users());
            users.sort_unstable();
            users.dedup();
        }
        users.len() as u64
    }

    /// Whether the room can answer: loaded (owner, alone) or replicated (follower).
    fn ready(&self) -> bool {
        self.room.is_some() || self.cluster.as_ref().is_some_and(|c| c.replica.is_some())
    }

    /// The room as its members see it now.
    fn current(&self) -> Option<RoomSnapshot> {
        match (&self.room, &self.cluster) {
            (Some(room), _) => Some(room.snapshot(self.present())),
            (None, Some(c)) => c.replica.as_ref().map(|r| r.snapshot().clone()),
            (None, None) => None,
        }
    }

    fn load(&mut self, ctx: &mut Context<Self>) {
        if self.loading || self.ready() || self.role() == Role::Asking {
            return;
        }
        self.loading = true;
        let (store, session, generation) = (self.store.clone(), self.session, self.generation);
        let fut = async move { storage::load(&store, session).await };
        ctx.spawn(fut.into_actor(self).map(move |loaded, act, ctx| {
            if act.generation != generation {
                // The role changed meanwhile; the new role loads for itself.
                return;
            }
            act.loading = false;
            match loaded {
                Ok(room) => {
                    act.take_loaded(room);
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

    /// A room read from the database: the one to decide on, or a follower's
    /// replica, brought up to date with the events heard while it loaded.
    fn take_loaded(&mut self, room: super::state::Room) {
        let Some(c) = self
            .cluster
            .as_mut()
            .filter(|c| matches!(c.role, Role::Follower { .. }))
        else {
            self.room = Some(room);
            return;
        };
        let mut replica = Replica::new(room.snapshot(0));
        for text in c.early.drain(..) {
            if let Ok(event) = serde_json::from_str::<ServerMessage>(&text) {
                replica.apply(&event);
            }
        }
        c.replica = Some(replica);
        // The count comes from the owner.
        c.ask_count = true;
        self.presence_changed = true;
    }

    fn answer_looks(&mut self) {
        if let Some(snapshot) = self.current() {
            for look in self.looks.drain(..) {
                let _ = look.send(Ok(snapshot.clone()));
            }
        }
    }

    /// Send a command's outcome where it is awaited.
    fn answer(&self, answer: Answer, outcome: Result<RoomDone, EngineError>) {
        match answer {
            Answer::Local(reply) => {
                let _ = reply.send(outcome);
            }
            Answer::Remote { node, request } => {
                let Some(c) = &self.cluster else {
                    return;
                };
                let outcome = match outcome {
                    Ok(done) => Outcome::Done(done),
                    Err(EngineError::Room(r)) => Outcome::Refused(r),
                    Err(_) => Outcome::Failed,
                };
                let reply = peers::Reply {
                    node,
                    request,
                    outcome,
                };
                c.peers.to_followers(self.session, &FromOwner::Reply(reply));
            }
        }
    }

    /// Decide and store the queued commands, unless a batch is running; on a
    /// follower, forward them to the owner.
    fn kick(&mut self, ctx: &mut Context<Self>) {
        match self.role() {
            Role::Alone | Role::Owner { .. } => {}
            Role::Follower { .. } => return self.forward_queued(),
            Role::Asking => return,
        }
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
        let generation = self.generation;
        let fut = async move { storage::save(&store, session, writes, now).await };
        ctx.spawn(fut.into_actor(self).map(move |saved, act, ctx| {
            act.busy = false;
            match saved {
                Ok(()) => {
                    // Stored, so told, even if this node has stopped deciding.
                    if act.generation == generation {
                        act.room = Some(room);
                    }
                    act.answer_looks();
                    for ((moderation, outcome), reply) in decided.into_iter().zip(replies) {
                        if let Ok(done) = &outcome {
                            act.announce(done, moderation);
                        }
                        act.answer(reply, outcome.map_err(refusal));
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
                        act.answer(
                            reply,
                            Err(EngineError::Unavailable(
                                "the room could not store this; nothing changed, retry",
                            )),
                        );
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

    /// Hand an event this node decided to every relay with members here, and
    /// to the followers; never waits.
    fn broadcast(&mut self, message: &ServerMessage) {
        if let Some(text) = encode(message) {
            if let Some(c) = &self.cluster {
                c.peers
                    .to_followers(self.session, &FromOwner::Event(text.to_string()));
            }
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
    fn tick(&mut self, ctx: &mut Context<Self>) {
        self.tick_cluster(ctx);
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
        let users = self.local_users();
        if let Some(c) = self
            .cluster
            .as_mut()
            .filter(|c| matches!(c.role, Role::Follower { .. }))
        {
            // The owner counts; a follower tells it who is here.
            let due = c
                .presence_told
                .is_none_or(|t| now.saturating_sub(t) >= peers::PRESENCE_EVERY);
            if std::mem::take(&mut self.presence_changed) || due {
                c.presence_told = Some(now);
                let ask = std::mem::take(&mut c.ask_count);
                c.peers.presence(session, users, ask);
            }
        } else if std::mem::take(&mut self.presence_changed) {
            let present = self.present();
            metrics::gauge!("limelight_room_members").set(self.members.len() as f64);
            self.broadcast(&ServerMessage::PresenceUpdate { session, present });
        }
        self.resynchronise();
    }

    /// The lease, forwarded commands that failed or were not answered, and
    /// followers gone silent.
    fn tick_cluster(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let Some(c) = &mut self.cluster else {
            return;
        };
        while let Ok(request) = c.failed_rx.try_recv() {
            if let Some(reply) = c.forwarded.take(request) {
                let _ = reply.send(Err(EngineError::Unavailable(
                    "the node that holds this room could not be reached; nothing changed, retry",
                )));
            }
        }
        for reply in c.forwarded.overdue(now) {
            let _ = reply.send(Err(EngineError::Unavailable(
                "the node that holds this room did not answer in time; retry",
            )));
        }
        if c.remote.expire(now) {
            self.presence_changed = true;
        }
        let every = match c.role {
            Role::Asking => Duration::from_secs(1),
            _ if c.claim_failed => Duration::from_secs(1),
            _ => peers::RENEW,
        };
        if let Role::Owner { until } = c.role
            && now >= until
        {
            tracing::warn!(session = %self.session, "the room's lease could not be renewed; deciding stops until it is");
            self.become_role(Role::Asking, ctx);
        }
        if self
            .cluster
            .as_ref()
            .is_some_and(|c| c.role == Role::Asking && c.claim_failed)
        {
            // Nobody can be found to decide: say so rather than keep people waiting.
            for (_, _, answer) in std::mem::take(&mut self.queue) {
                self.answer(
                    answer,
                    Err(EngineError::Unavailable(
                        "the node that holds this room cannot be found while Redis is down; \
                         nothing changed, retry",
                    )),
                );
            }
            self.answer_entering();
        }
        let session = self.session;
        let Some(c) = &mut self.cluster else {
            return;
        };
        let due = |at: Option<Duration>, every: Duration| {
            at.is_none_or(|t| now.saturating_sub(t) >= every)
        };
        if matches!(c.role, Role::Owner { .. }) && c.remote.any() && due(c.heard, peers::RENEW) {
            c.heard = Some(now);
            c.peers.to_followers(session, &FromOwner::Alive);
        }
        // A follower that hears its owner leaves the lease alone.
        let owner_quiet = !matches!(c.role, Role::Follower { .. }) || due(c.heard, peers::LEASE);
        if !c.asking && owner_quiet && due(c.asked, every) {
            self.ask_owner(ctx);
        }
    }

    /// Claim or renew the lease, and take the role that follows.
    fn ask_owner(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let Some(c) = &mut self.cluster else {
            return;
        };
        c.asking = true;
        c.asked = Some(now);
        let claim = c.peers.claim(self.session);
        ctx.spawn(claim.into_actor(self).map(move |owner, act, ctx| {
            let Some(c) = &mut act.cluster else {
                return;
            };
            c.asking = false;
            c.claim_failed = owner.is_err();
            let me = c.peers.node().to_owned();
            match owner {
                Ok(owner) if owner == me => {
                    let until = now + peers::LEASE;
                    match &mut c.role {
                        Role::Owner { until: u } => *u = until,
                        _ => act.become_role(Role::Owner { until }, ctx),
                    }
                }
                Ok(owner) => {
                    if c.role != (Role::Follower { owner: owner.clone() }) {
                        let was_follower = matches!(c.role, Role::Follower { .. });
                        if was_follower {
                            // The same channel, the same replica: only the
                            // owner's name changes.
                            c.role = Role::Follower { owner };
                        } else {
                            act.become_role(Role::Follower { owner }, ctx);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(session = %act.session, error = %e, "who owns the room could not be asked");
                }
            }
        }));
    }

    /// Take up `role`: the owner loads the room and hears the inbox; a follower
    /// hears the owner, then loads its replica. Members get a fresh snapshot
    /// either way; commands forwarded under the old role are answered as failed.
    fn become_role(&mut self, role: Role, ctx: &mut Context<Self>) {
        let session = self.session;
        let Some(c) = &mut self.cluster else {
            return;
        };
        tracing::info!(%session, from = ?c.role, to = ?role, "room role");
        self.generation += 1;
        self.loading = false;
        self.room = None;
        c.replica = None;
        c.early.clear();
        c.remote.clear();
        c.presence_told = None;
        // A new follower has heard its owner: the lease says who it is.
        c.heard = matches!(role, Role::Follower { .. }).then(|| self.clock.now());
        for reply in c.forwarded.drain() {
            let _ = reply.send(Err(EngineError::Unavailable(
                "the room changed nodes; retry",
            )));
        }
        if let Some(h) = c.listening.take() {
            ctx.cancel_future(h);
        }
        let channel = match &role {
            Role::Owner { .. } => Some(peers::inbox_channel(session)),
            Role::Follower { .. } => Some(peers::room_channel(session)),
            Role::Alone | Role::Asking => None,
        };
        c.role = role;
        self.presence_changed = true;
        if let Some(channel) = channel {
            self.listen(channel, ctx);
        }
    }

    /// Hear `channel` (for this generation), then load the room.
    fn listen(&mut self, channel: String, ctx: &mut Context<Self>) {
        let Some(c) = &self.cluster else {
            return;
        };
        let (bus, generation) = (c.peers.bus().clone(), self.generation);
        let heard = {
            let channel = channel.clone();
            async move { bus.listen(&channel).await }
        };
        ctx.spawn(heard.into_actor(self).map(move |heard, act, ctx| {
            if act.generation != generation {
                return;
            }
            match heard {
                Ok(rx) => {
                    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                        rx.recv().await.map(|h| (h, rx))
                    });
                    let handle = ctx.add_stream(stream);
                    if let Some(c) = &mut act.cluster {
                        c.listening = Some(handle);
                    }
                    act.load(ctx);
                    act.kick(ctx);
                }
                Err(e) => {
                    tracing::warn!(session = %act.session, %channel, error = %e, "a room cannot hear its peers yet; retrying");
                    clock::run_later(ctx, &act.clock, Duration::from_secs(1), move |act, ctx| {
                        if act.generation == generation {
                            act.listen(channel, ctx);
                        }
                    });
                }
            }
        }));
    }

    /// A follower sends its queued commands to the owner.
    fn forward_queued(&mut self) {
        let now = self.clock.now();
        let session = self.session;
        let Some(c) = &mut self.cluster else {
            return;
        };
        for (speaker, command, answer) in self.queue.drain(..) {
            // Commands forwarded to this node while it owned the room: their
            // followers time out and say so.
            let Answer::Local(reply) = answer else {
                continue;
            };
            let request = c.forwarded.add(reply, now);
            metrics::counter!("limelight_room_forwarded_total").increment(1);
            c.peers
                .forward(session, request, speaker, command, c.failed_tx.clone());
        }
    }

    /// The owner hears a follower.
    fn hear_follower(&mut self, note: ToOwner, ctx: &mut Context<Self>) {
        match note {
            ToOwner::Command {
                node,
                request,
                speaker,
                command,
            } => {
                self.last_used = self.clock.now();
                self.queue
                    .push((speaker, command, Answer::Remote { node, request }));
                self.kick(ctx);
            }
            ToOwner::Presence { node, users, ask } => {
                let now = self.clock.now();
                if !users.is_empty() {
                    self.last_used = now;
                }
                if let Some(c) = &mut self.cluster
                    && (c.remote.heard(node, users, now) || ask)
                {
                    self.presence_changed = true;
                }
            }
        }
    }

    /// A follower hears the owner.
    fn hear_owner(&mut self, message: FromOwner) {
        let now = self.clock.now();
        let Some(c) = &mut self.cluster else {
            return;
        };
        c.heard = Some(now);
        match message {
            FromOwner::Alive => {}
            FromOwner::Event(text) => {
                let Some(replica) = &mut c.replica else {
                    c.early.push(text);
                    return;
                };
                if let Ok(event) = serde_json::from_str::<ServerMessage>(&text) {
                    replica.apply(&event);
                }
                self.deliver_all(DeliveryKind::Event(ByteString::from(text)));
            }
            FromOwner::Reply(reply) => {
                if reply.node != c.peers.node() {
                    return;
                }
                let Some(waiting) = c.forwarded.take(reply.request) else {
                    return;
                };
                let outcome = match reply.outcome {
                    Outcome::Done(done) => Ok(done),
                    Outcome::Refused(r) => Err(EngineError::Room(r)),
                    Outcome::Failed => Err(EngineError::Unavailable(
                        "the room could not store this; nothing changed, retry",
                    )),
                };
                let _ = waiting.send(outcome);
            }
        }
    }

    /// A snapshot of the room as it stands for each member that is behind. One
    /// whose queue is still full is reported again and gets another on a later
    /// tick.
    fn resynchronise(&mut self) {
        if self.behind.is_empty() {
            return;
        }
        let Some(snapshot) = self.current() else {
            return;
        };
        let snapshot = ServerMessage::RoomSnapshot { snapshot };
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
        self.tick_cluster(ctx);
        let every = Duration::from_secs(1) / RESULTS_PER_SECOND;
        clock::run_every(ctx, self.clock.clone(), every, |act, ctx| act.tick(ctx));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(c) = &self.cluster
            && matches!(c.role, Role::Owner { .. })
        {
            actix::spawn(c.peers.release(self.session));
        }
    }
}

impl actix::Supervised for RoomActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        tracing::warn!(session = %self.session, "room restarting; reloading from the database");
        self.room = None;
        self.busy = false;
        self.loading = false;
        self.generation += 1;
        if let Some(c) = &mut self.cluster {
            // The restarted context hears nothing: ask again, and listen anew.
            c.role = Role::Asking;
            c.asking = false;
            c.asked = None;
            c.listening = None;
            c.replica = None;
        }
    }
}

impl StreamHandler<crate::bus::Heard> for RoomActor {
    fn handle(&mut self, heard: crate::bus::Heard, ctx: &mut Context<Self>) {
        use crate::bus::Heard;
        match (self.role(), heard) {
            (Role::Owner { .. }, Heard::Event(body)) => match serde_json::from_str(&body) {
                Ok(note) => self.hear_follower(note, ctx),
                Err(e) => {
                    tracing::warn!(session = %self.session, error = %e, "a follower's note was not understood")
                }
            },
            (Role::Follower { .. }, Heard::Event(body)) => {
                if let Some(message) = FromOwner::decode(&body) {
                    self.hear_owner(message);
                }
            }
            (Role::Follower { .. }, Heard::Gap) => {
                // Events were lost: read the room back, then every member gets
                // a fresh snapshot.
                metrics::counter!("limelight_room_gaps_total").increment(1);
                self.generation += 1;
                self.loading = false;
                if let Some(c) = &mut self.cluster {
                    c.replica = None;
                    c.early.clear();
                }
                self.load(ctx);
            }
            // Forwarded commands lost in a gap time out at their followers;
            // presence is repeated.
            _ => {}
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<Enter> for RoomActor {
    type Result = ResponseFuture<()>;

    /// Answered once the member's snapshot has been handed to its relay: at once if the room
    /// is at rest, else when the load or the batch under way has finished. So the
    /// snapshot is queued before the join's ack.
    fn handle(&mut self, msg: Enter, _: &mut Context<Self>) -> Self::Result {
        self.last_used = self.clock.now();
        self.add_member(msg.member, msg.user, msg.relay);
        if self.ready() {
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
        self.queue
            .push((msg.speaker, msg.command, Answer::Local(tx)));
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
        if let Some(snapshot) = self.current() {
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
            && !self.cluster.as_ref().is_some_and(|c| c.remote.any())
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
