//! `LedgerActor`: the only writer of one session's inventory. Commands queue while
//! a batch is in its transaction; when it commits, every command of the batch is
//! answered and the queue becomes the next batch. Under load a batch holds many
//! commands, so one transaction serves them all.

use super::batch::{self, BatchError, Done, Keyed};
use super::ledger::{Answer, Ledger, Notice};
use crate::CalendarError;
use crate::EngineEvent;
use crate::clock::{self, Clock, WallClock};
use crate::error::EngineError;
use crate::store::{Store, StoreError};
use actix::prelude::*;
use limelight_shared::booking::{Availability, Booking, WaitlistEntry};
use limelight_shared::ids::{SessionId, UserId};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, oneshot};

/// Most commands in one transaction.
pub const MAX_BATCH: usize = 1024;

/// A command for the ledger; answered once its batch has committed.
#[derive(Debug, Message)]
#[rtype(result = "Result<Answer, EngineError>")]
pub struct Submit(pub Keyed);

/// A question about the ledger's current state.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub enum Question {
    /// What is left.
    Availability,
    /// One attendee's live holds and bookings.
    Mine(UserId),
    /// One attendee's waitlist entry.
    Waiting(UserId),
    /// The waitlist in offer order: a page of it.
    Waitlist {
        /// Entries to skip.
        offset: usize,
        /// Entries to answer at most.
        limit: usize,
    },
}

/// What a [`Question`] is answered with.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Reply {
    /// What is left.
    Availability(Availability),
    /// Holds and bookings.
    Bookings(Vec<Booking>),
    /// A waitlist entry, if there is one.
    Waiter(Option<WaitlistEntry>),
    /// A page of the waitlist, and its length.
    Waitlist(Vec<WaitlistEntry>, usize),
}

/// A question for the ledger; answered from its state after the last committed batch.
#[derive(Debug, Message)]
#[rtype(result = "Result<Reply, EngineError>")]
pub struct GetReply(pub Question);

/// Forget the ledger and rebuild it from the database before the next batch (the
/// session's or its event's terms changed).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Reload;

/// Whether the ledger has been idle for `0` and has no hold or offer to expire.
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct GetLedgerIdle(pub std::time::Duration);

type Reply1 = oneshot::Sender<Result<Answer, EngineError>>;
type Reply2 = oneshot::Sender<Result<Reply, EngineError>>;

/// The ledger of one session, with its queue.
#[derive(Debug)]
pub struct LedgerActor {
    session: SessionId,
    store: Store,
    clock: Arc<dyn Clock>,
    wall: Arc<dyn WallClock>,
    events: broadcast::Sender<EngineEvent>,
    ledger: Option<Ledger>,
    queue: Vec<(Keyed, Reply1)>,
    questions: Vec<(Question, Reply2)>,
    busy: bool,
    /// A sweep is due (the expiry timer fired, or the ledger must be loaded).
    sweep: bool,
    /// Rebuild from the database once the running batch is done.
    reload: bool,
    timer: Option<SpawnHandle>,
    /// When it was last asked anything, on the engine's clock.
    last_used: Duration,
}

impl LedgerActor {
    /// A ledger actor for `session`; it loads from the database on first use.
    /// Its expiry timer waits on `clock`; expiry times are `wall` times.
    pub fn new(
        session: SessionId,
        store: Store,
        clock: Arc<dyn Clock>,
        wall: Arc<dyn WallClock>,
        events: broadcast::Sender<EngineEvent>,
    ) -> Self {
        Self {
            session,
            store,
            last_used: clock.now(),
            clock,
            wall,
            events,
            ledger: None,
            queue: Vec::new(),
            questions: Vec::new(),
            busy: false,
            sweep: false,
            reload: false,
            timer: None,
        }
    }

    /// Start the next batch unless one is running.
    fn kick(&mut self, ctx: &mut Context<Self>) {
        let load = self.ledger.is_none() && !self.questions.is_empty();
        if self.busy || (self.queue.is_empty() && !self.sweep && !load) {
            return;
        }
        self.busy = true;
        self.sweep = false;
        let take = self.queue.len().min(MAX_BATCH);
        let (commands, replies): (Vec<Keyed>, Vec<Reply1>) = self.queue.drain(..take).unzip();
        let store = self.store.clone();
        let session = self.session;
        let ledger = self.ledger.take();
        let now = self.wall.now();
        let started = Instant::now();
        let size = commands.len();
        let fut = async move { batch::run(&store, session, ledger, commands, now).await };
        ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| {
            metrics::histogram!("limelight_ledger_batch_seconds").record(started.elapsed());
            metrics::histogram!("limelight_ledger_batch_size").record(size as f64);
            act.finish(result, replies, ctx);
        }));
    }

    fn finish(
        &mut self,
        result: Result<Done, BatchError>,
        replies: Vec<Reply1>,
        ctx: &mut Context<Self>,
    ) {
        self.busy = false;
        match result {
            Ok(done) => {
                if !done.expired.is_empty() {
                    metrics::counter!("limelight_holds_expired_total")
                        .increment(done.expired.len() as u64);
                }
                for (reply, answer) in replies.into_iter().zip(done.answers) {
                    let _ = reply.send(Ok(answer));
                }
                for notice in done.notices {
                    let event = match notice {
                        Notice::Offer(entry) => EngineEvent::WaitlistOffer(entry),
                        Notice::Confirmed(booking) => EngineEvent::BookingConfirmed(booking),
                    };
                    // Nobody listening is fine: the offer is stored and shown over REST.
                    let _ = self.events.send(event);
                }
                self.ledger = Some(done.ledger);
                if std::mem::take(&mut self.reload) {
                    self.ledger = None;
                    self.sweep = true;
                }
                self.answer_questions();
                self.arm_timer(ctx);
            }
            Err(e) => {
                let error = |e: &BatchError| match e {
                    BatchError::NoSession(s) => {
                        EngineError::Calendar(CalendarError::UnknownSession(*s))
                    }
                    BatchError::Store(_) => EngineError::Unavailable(
                        "the booking could not be stored; nothing changed, retry with the \
                         same idempotency key",
                    ),
                };
                tracing::error!(session = %self.session, error = %e, "ledger batch failed");
                for reply in replies {
                    let _ = reply.send(Err(error(&e)));
                }
                for (_, reply) in self.questions.drain(..) {
                    let _ = reply.send(Err(error(&e)));
                }
                if let BatchError::Store(StoreError::Corrupt(_)) = e {
                    // The stored ledger broke a rule: start over from the rows.
                    ctx.stop();
                    return;
                }
            }
        }
        self.kick(ctx);
    }

    fn answer_questions(&mut self) {
        let Some(ledger) = &self.ledger else {
            return;
        };
        for (q, reply) in self.questions.drain(..) {
            let _ = reply.send(Ok(answer(ledger, q)));
        }
    }

    /// Wake up for the next expiry.
    fn arm_timer(&mut self, ctx: &mut Context<Self>) {
        if let Some(h) = self.timer.take() {
            ctx.cancel_future(h);
        }
        let Some(at) = self.ledger.as_ref().and_then(Ledger::next_expiry) else {
            return;
        };
        let wait = (at - self.wall.now()).to_std().unwrap_or_default();
        self.timer = Some(clock::run_later(ctx, &self.clock, wait, |act, ctx| {
            act.timer = None;
            act.sweep = true;
            act.kick(ctx);
        }));
    }
}

fn answer(ledger: &Ledger, q: Question) -> Reply {
    match q {
        Question::Availability => Reply::Availability(ledger.availability()),
        Question::Mine(user) => Reply::Bookings(ledger.of_user(user)),
        Question::Waiting(user) => Reply::Waiter(ledger.waiting_entry(user)),
        Question::Waitlist { offset, limit } => {
            let (page, total) = ledger.waitlist_page(offset, limit);
            Reply::Waitlist(page, total)
        }
    }
}

impl Actor for LedgerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1 << 16);
        // Load at once: expired holds are freed and the timer is set.
        self.sweep = true;
        self.kick(ctx);
    }
}

impl actix::Supervised for LedgerActor {
    fn restarting(&mut self, _: &mut Context<Self>) {
        tracing::warn!(session = %self.session, "ledger restarting; rebuilding from the database");
        self.ledger = None;
        self.busy = false;
        self.timer = None;
        self.sweep = true;
    }
}

impl Handler<Submit> for LedgerActor {
    type Result = ResponseFuture<Result<Answer, EngineError>>;

    fn handle(&mut self, msg: Submit, ctx: &mut Context<Self>) -> Self::Result {
        self.last_used = self.clock.now();
        let (tx, rx) = oneshot::channel();
        self.queue.push((msg.0, tx));
        self.kick(ctx);
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(EngineError::broken("the ledger stopped")))
        })
    }
}

impl Handler<GetReply> for LedgerActor {
    type Result = ResponseFuture<Result<Reply, EngineError>>;

    fn handle(&mut self, msg: GetReply, ctx: &mut Context<Self>) -> Self::Result {
        self.last_used = self.clock.now();
        if let (false, Some(ledger)) = (self.busy, &self.ledger) {
            // Exact at the moment of asking: a hold or offer whose time has come
            // is expired first, even when its timer has not fired yet.
            if ledger.next_expiry().is_none_or(|at| at > self.wall.now()) {
                let reply = answer(ledger, msg.0);
                return Box::pin(async move { Ok(reply) });
            }
            self.sweep = true;
        }
        let (tx, rx) = oneshot::channel();
        self.questions.push((msg.0, tx));
        self.kick(ctx);
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(EngineError::broken("the ledger stopped")))
        })
    }
}

impl Handler<Reload> for LedgerActor {
    type Result = ();

    fn handle(&mut self, _: Reload, ctx: &mut Context<Self>) {
        if self.busy {
            // The running batch hands its ledger back; it is forgotten then.
            self.reload = true;
            return;
        }
        self.ledger = None;
        self.sweep = true;
        self.kick(ctx);
    }
}

impl Handler<GetLedgerIdle> for LedgerActor {
    type Result = bool;

    fn handle(&mut self, msg: GetLedgerIdle, _: &mut Context<Self>) -> bool {
        !self.busy
            && self.queue.is_empty()
            && self.clock.now().saturating_sub(self.last_used) >= msg.0
            && !self.ledger.as_ref().is_some_and(Ledger::has_pending)
    }
}
