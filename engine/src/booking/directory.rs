//! `SessionDirectory`: starts each session's ledger on demand, supervises it (a
//! ledger that stops on a broken rule is restarted and rebuilt from the database)
//! and lets it go once it has been idle for a while with nothing left to expire.

use super::actor::{IdleFor, LedgerActor, Reload};
use crate::clock::WallClock;
use crate::store::Store;
use actix::prelude::*;
use limelight_shared::ids::SessionId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The ledger of a session, started if it is not running.
#[derive(Debug, Message)]
#[rtype(result = "Addr<LedgerActor>")]
pub struct LedgerOf(pub SessionId);

/// The ledger of a session if it is running.
#[derive(Debug, Message)]
#[rtype(result = "Option<Addr<LedgerActor>>")]
pub struct RunningLedger(pub SessionId);

/// Make running ledgers rebuild from the database before their next answer: one
/// session's, or every one (an event changed).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ReloadLedgers(pub Option<SessionId>);

/// How many ledgers run.
#[derive(Debug, Message)]
#[rtype(result = "usize")]
pub struct CountLedgers;

/// The session actors of this process.
#[derive(Debug)]
pub struct SessionDirectory {
    store: Store,
    wall: Arc<dyn WallClock>,
    ledgers: HashMap<SessionId, Addr<LedgerActor>>,
    /// Where the session actors run: one thread beside the API's.
    arbiter: ArbiterHandle,
    idle_after: Duration,
}

impl SessionDirectory {
    /// A directory whose actors stop after `idle_after` without use.
    pub fn new(store: Store, wall: Arc<dyn WallClock>, idle_after: Duration) -> Self {
        Self {
            store,
            wall,
            ledgers: HashMap::new(),
            arbiter: Arbiter::new().handle(),
            idle_after,
        }
    }

    fn sweep_idle(&mut self, ctx: &mut Context<Self>) {
        let idle_after = self.idle_after;
        let asks: Vec<_> = self
            .ledgers
            .iter()
            .map(|(id, addr)| (*id, addr.send(IdleFor(idle_after))))
            .collect();
        let fut = async move {
            let mut idle = Vec::new();
            for (id, ask) in asks {
                if ask.await.unwrap_or(true) {
                    idle.push(id);
                }
            }
            idle
        };
        ctx.spawn(fut.into_actor(self).map(|idle, act, _| {
            for id in idle {
                // Dropping the last address stops the actor once its mailbox is empty.
                act.ledgers.remove(&id);
                tracing::debug!(session = %id, "ledger idle; stopped");
            }
            metrics::gauge!("limelight_ledgers_running").set(act.ledgers.len() as f64);
        }));
    }
}

impl Actor for SessionDirectory {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1 << 16);
        let every = (self.idle_after / 4).max(Duration::from_millis(50));
        ctx.run_interval(every, |act, ctx| act.sweep_idle(ctx));
    }
}

impl Handler<LedgerOf> for SessionDirectory {
    type Result = MessageResult<LedgerOf>;

    fn handle(&mut self, msg: LedgerOf, _: &mut Context<Self>) -> Self::Result {
        let addr = self
            .ledgers
            .entry(msg.0)
            .or_insert_with(|| {
                let (store, wall) = (self.store.clone(), self.wall.clone());
                Supervisor::start_in_arbiter(&self.arbiter, move |_| {
                    LedgerActor::new(msg.0, store, wall)
                })
            })
            .clone();
        metrics::gauge!("limelight_ledgers_running").set(self.ledgers.len() as f64);
        MessageResult(addr)
    }
}

impl Handler<RunningLedger> for SessionDirectory {
    type Result = MessageResult<RunningLedger>;

    fn handle(&mut self, msg: RunningLedger, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.ledgers.get(&msg.0).cloned())
    }
}

impl Handler<ReloadLedgers> for SessionDirectory {
    type Result = ();

    fn handle(&mut self, msg: ReloadLedgers, _: &mut Context<Self>) {
        for (id, addr) in &self.ledgers {
            if msg.0.is_none_or(|s| s == *id) {
                addr.do_send(Reload);
            }
        }
    }
}

impl Handler<CountLedgers> for SessionDirectory {
    type Result = usize;

    fn handle(&mut self, _: CountLedgers, _: &mut Context<Self>) -> usize {
        self.ledgers.len()
    }
}
