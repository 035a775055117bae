//! `SessionDirectory`: starts each session's actors on demand (its booking ledger,
//! which also keeps its waitlist, and its live room), supervises them (an actor
//! that stops is restarted and rebuilds from the database) and lets them go once
//! they have been idle for a while: a ledger with no hold or offer left to expire,
//! a room with nobody in it.

use crate::EngineEvent;
use crate::clock::{self, Clock, WallClock};
use crate::session::booking::actor::{GetLedgerIdle, LedgerActor, Reload};
use crate::session::room::{GetRoomIdle, RoomActor, peers::Peers};
use crate::store::Store;
use actix::prelude::*;
use limelight_shared::ids::SessionId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// The ledger of a session, started if it is not running.
#[derive(Debug, Message)]
#[rtype(result = "Addr<LedgerActor>")]
pub struct GetLedger(pub SessionId);

/// The ledger of a session if it is running.
#[derive(Debug, Message)]
#[rtype(result = "Option<Addr<LedgerActor>>")]
pub struct GetRunningLedger(pub SessionId);

/// Make running ledgers rebuild from the database before their next answer: one
/// session's, or every one (an event changed).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ReloadLedgers(pub Option<SessionId>);

/// The room of a session, started if it is not running.
#[derive(Debug, Message)]
#[rtype(result = "Addr<RoomActor>")]
pub struct GetRoom(pub SessionId);

/// How many ledgers run.
#[derive(Debug, Message)]
#[rtype(result = "usize")]
pub struct GetLedgerCount;

/// The session actors of this process.
#[derive(Debug)]
pub struct SessionDirectory {
    store: Store,
    clock: Arc<dyn Clock>,
    wall: Arc<dyn WallClock>,
    events: broadcast::Sender<EngineEvent>,
    ledgers: HashMap<SessionId, Addr<LedgerActor>>,
    rooms: HashMap<SessionId, Addr<RoomActor>>,
    /// Where the session actors run: one thread beside the API's.
    arbiter: ArbiterHandle,
    idle_after: Duration,
    /// The other nodes' rooms, and this node's name among them.
    bus: Option<(crate::bus::Bus, String)>,
}

impl SessionDirectory {
    /// A directory whose actors stop after `idle_after` without use.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        wall: Arc<dyn WallClock>,
        events: broadcast::Sender<EngineEvent>,
        idle_after: Duration,
    ) -> Self {
        Self {
            store,
            clock,
            wall,
            events,
            ledgers: HashMap::new(),
            rooms: HashMap::new(),
            arbiter: Arbiter::new().handle(),
            idle_after,
            bus: None,
        }
    }

    /// Rooms shared with the other nodes through `bus`, this node being `node`.
    pub fn with_bus(mut self, bus: Option<crate::bus::Bus>, node: &str) -> Self {
        self.bus = bus.map(|b| (b, node.to_owned()));
        self
    }

    fn sweep_idle(&mut self, ctx: &mut Context<Self>) {
        let idle_after = self.idle_after;
        let ledgers: Vec<_> = self
            .ledgers
            .iter()
            .map(|(id, addr)| (*id, addr.send(GetLedgerIdle(idle_after))))
            .collect();
        let rooms: Vec<_> = self
            .rooms
            .iter()
            .map(|(id, addr)| (*id, addr.send(GetRoomIdle(idle_after))))
            .collect();
        let fut = async move {
            let (mut idle_ledgers, mut idle_rooms) = (Vec::new(), Vec::new());
            for (id, ask) in ledgers {
                if ask.await.unwrap_or(true) {
                    idle_ledgers.push(id);
                }
            }
            for (id, ask) in rooms {
                if ask.await.unwrap_or(true) {
                    idle_rooms.push(id);
                }
            }
            (idle_ledgers, idle_rooms)
        };
        ctx.spawn(fut.into_actor(self).map(|(ledgers, rooms), act, _| {
            // Dropping the last address stops an actor once its mailbox is empty.
            for id in ledgers {
                act.ledgers.remove(&id);
                tracing::debug!(session = %id, "ledger idle; stopped");
            }
            for id in rooms {
                act.rooms.remove(&id);
                tracing::debug!(session = %id, "room empty; stopped");
            }
            metrics::gauge!("limelight_ledgers_running").set(act.ledgers.len() as f64);
            metrics::gauge!("limelight_rooms_running").set(act.rooms.len() as f64);
        }));
    }
}

impl Actor for SessionDirectory {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1 << 16);
        let every = (self.idle_after / 4).max(Duration::from_millis(50));
        clock::run_every(ctx, self.clock.clone(), every, |act, ctx| {
            act.sweep_idle(ctx)
        });
    }
}

impl Handler<GetLedger> for SessionDirectory {
    type Result = MessageResult<GetLedger>;

    fn handle(&mut self, msg: GetLedger, _: &mut Context<Self>) -> Self::Result {
        let addr = self
            .ledgers
            .entry(msg.0)
            .or_insert_with(|| {
                let (store, wall) = (self.store.clone(), self.wall.clone());
                let (clock, events) = (self.clock.clone(), self.events.clone());
                Supervisor::start_in_arbiter(&self.arbiter, move |_| {
                    LedgerActor::new(msg.0, store, clock, wall, events)
                })
            })
            .clone();
        metrics::gauge!("limelight_ledgers_running").set(self.ledgers.len() as f64);
        MessageResult(addr)
    }
}

impl Handler<GetRoom> for SessionDirectory {
    type Result = MessageResult<GetRoom>;

    fn handle(&mut self, msg: GetRoom, _: &mut Context<Self>) -> Self::Result {
        let addr = self
            .rooms
            .entry(msg.0)
            .or_insert_with(|| {
                let (store, wall) = (self.store.clone(), self.wall.clone());
                let (clock, bus) = (self.clock.clone(), self.bus.clone());
                Supervisor::start_in_arbiter(&self.arbiter, move |_| {
                    let peers = bus.map(|(bus, node)| Peers::new(bus, node));
                    RoomActor::new(msg.0, store, clock, wall).with_peers(peers)
                })
            })
            .clone();
        metrics::gauge!("limelight_rooms_running").set(self.rooms.len() as f64);
        MessageResult(addr)
    }
}

impl Handler<GetRunningLedger> for SessionDirectory {
    type Result = MessageResult<GetRunningLedger>;

    fn handle(&mut self, msg: GetRunningLedger, _: &mut Context<Self>) -> Self::Result {
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

impl Handler<GetLedgerCount> for SessionDirectory {
    type Result = usize;

    fn handle(&mut self, _: GetLedgerCount, _: &mut Context<Self>) -> usize {
        self.ledgers.len()
    }
}
