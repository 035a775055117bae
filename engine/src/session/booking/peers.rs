//! One node at a time runs a session's ledger (when `redis_url` is set). Two
//! nodes booking one session through ledgers of their own are correct (every
//! batch locks the session row and reads back what the other wrote) but slow:
//! measured, two nodes alternating on one session reach a fifth of one node's
//! bookings per second, since nearly every batch rebuilds its ledger from the
//! rows. So each session's ledger has a lease in Redis, and a node that does
//! not hold it forwards the session's commands and questions to the node that
//! does, over the bus, and answers with what comes back.
//!
//! Correctness never rests on the lease, only speed: a node that cannot reach
//! Redis, or whose forwarded request could not be published, runs the ledger
//! itself, and the row lock keeps the two apart. A forwarded request that was
//! published but not answered within [`FORWARD_TIMEOUT`] is refused as
//! unavailable (it may or may not have been taken; a retry with the same
//! idempotency key is answered once). A node holds each lease for [`LEASE`],
//! renews those of sessions it used in the last [`KEEP_FOR`] every [`RENEW`],
//! and gives up the rest; when it dies, its leases lapse and the next node
//! asked takes them.
//!
//! Requests and answers queued together for one node go out as one bus
//! message, so under load a node publishes far fewer messages than it
//! forwards requests.

use super::{Answer, Keyed, Question, Reply};
use crate::bus::{Bus, Heard, lease};
use limelight_shared::ids::SessionId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// How long a lease holds without being renewed.
pub const LEASE: Duration = Duration::from_secs(3);
/// How often a node renews its leases.
pub const RENEW: Duration = Duration::from_secs(1);
/// How long a forwarded request waits for its answer.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a request may wait to be published: well before its sender stops
/// waiting, so none goes out after its sender was told it failed.
const PUBLISH_WITHIN: Duration = Duration::from_secs(1);
/// How long a node trusts what it learned of another node's lease.
const KNOWN_FOR: Duration = Duration::from_secs(1);
/// Leases of sessions unused for this long are given up.
pub const KEEP_FOR: Duration = Duration::from_secs(60);
/// Most envelopes in one bus message.
const MAX_ENVELOPES: usize = 512;

/// What one node asks of a session's ledger on another.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// A command.
    Submit(Keyed),
    /// A question.
    Ask(Question),
}

/// What comes back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// The ledger's answer to a command.
    Submitted(Answer),
    /// The ledger's answer to a question.
    Answered(Reply),
    /// The owner could not run it; nothing changed.
    Failed {
        /// Because there is no such session.
        unknown_session: bool,
    },
    /// The request never left this node: run it here.
    NotSent,
}

/// One request or answer between two nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Envelope {
    Ask {
        from: String,
        id: u64,
        session: SessionId,
        request: Request,
    },
    Answer {
        id: u64,
        response: Response,
    },
}

/// A request another node forwarded here, to run and answer.
#[derive(Debug)]
pub struct Incoming {
    /// The session.
    pub session: SessionId,
    /// What to do.
    pub request: Request,
    from: String,
    id: u64,
}

/// Where a session's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// This node's ledger.
    Local,
    /// The ledger of the node with this id.
    Remote(String),
}

struct Out {
    channel: String,
    envelope: Envelope,
    /// For a request: the latest it may be published.
    deadline: Option<Instant>,
}

/// Leases this node holds: until when, and when last used.
#[derive(Debug, Clone, Copy)]
struct Held {
    until: Instant,
    used: Instant,
}

#[derive(Debug)]
struct Inner {
    bus: Bus,
    node: String,
    held: Mutex<HashMap<SessionId, Held>>,
    known: Mutex<HashMap<SessionId, (String, Instant)>>,
    waiting: Mutex<HashMap<u64, oneshot::Sender<Response>>>,
    next: AtomicU64,
    outbox: mpsc::UnboundedSender<Out>,
}

/// The ledgers' way to the other nodes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LedgerPeers {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Out")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

fn held<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lease_key(session: SessionId) -> String {
    format!("limelight:ledger-owner:{session}")
}

fn node_channel(node: &str) -> String {
    format!("ledgers:{node}")
}

impl LedgerPeers {
    /// Peers through `bus` for node `node`: the outbox, the listener and the
    /// renewals run on the current arbiter. What other nodes forward here comes
    /// out of the receiver.
    pub fn start(bus: Bus, node: &str) -> (Self, mpsc::UnboundedReceiver<Incoming>) {
        let (outbox, out_rx) = mpsc::unbounded_channel();
        let (incoming_tx, incoming) = mpsc::unbounded_channel();
        let peers = Self {
            inner: Arc::new(Inner {
                bus,
                node: node.to_owned(),
                held: Mutex::default(),
                known: Mutex::default(),
                waiting: Mutex::default(),
                next: AtomicU64::new(1),
                outbox,
            }),
        };
        actix::spawn(peers.clone().publish(out_rx));
        actix::spawn(peers.clone().listen(incoming_tx));
        actix::spawn(peers.clone().renew());
        (peers, incoming)
    }

    /// Where `session`'s requests go now: here if this node holds (or has just
    /// taken) its lease, or Redis cannot be asked.
    pub async fn route(&self, session: SessionId) -> Route {
        let now = Instant::now();
        if let Some(h) = held(&self.inner.held).get_mut(&session)
            && h.until > now
        {
            h.used = now;
            return Route::Local;
        }
        if let Some((owner, at)) = held(&self.inner.known).get(&session)
            && now.duration_since(*at) < KNOWN_FOR
        {
            return Route::Remote(owner.clone());
        }
        let inner = &self.inner;
        match lease::claim(inner.bus.redis(), &lease_key(session), &inner.node, LEASE).await {
            Ok(owner) if owner == inner.node => {
                let h = Held {
                    until: now + LEASE,
                    used: now,
                };
                held(&inner.held).insert(session, h);
                held(&inner.known).remove(&session);
                Route::Local
            }
            Ok(owner) => {
                held(&inner.held).remove(&session);
                held(&inner.known).insert(session, (owner.clone(), now));
                Route::Remote(owner)
            }
            Err(e) => {
                tracing::debug!(%session, error = %e, "who runs the ledger could not be asked; running it here");
                Route::Local
            }
        }
    }

    /// Send `request` to `owner`'s ledger of `session` and wait for the answer;
    /// [`Response::NotSent`] if it could not be published.
    pub async fn forward(
        &self,
        owner: &str,
        session: SessionId,
        request: Request,
    ) -> Result<Response, crate::EngineError> {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        held(&self.inner.waiting).insert(id, tx);
        metrics::counter!("limelight_ledger_forwarded_total").increment(1);
        let out = Out {
            channel: node_channel(owner),
            envelope: Envelope::Ask {
                from: self.inner.node.clone(),
                id,
                session,
                request,
            },
            deadline: Some(Instant::now() + PUBLISH_WITHIN),
        };
        if self.inner.outbox.send(out).is_err() {
            held(&self.inner.waiting).remove(&id);
            return Ok(Response::NotSent);
        }
        match tokio::time::timeout(FORWARD_TIMEOUT, rx).await {
            Ok(Ok(response)) => Ok(response),
            _ => {
                held(&self.inner.waiting).remove(&id);
                // Ask Redis again next time: the owner may be gone.
                held(&self.inner.known).remove(&session);
                Err(crate::EngineError::Unavailable(
                    "the node that runs this session's bookings did not answer in time; retry \
                     with the same idempotency key",
                ))
            }
        }
    }

    /// Send `response` back to where `incoming` came from.
    pub fn answer(&self, incoming: Incoming, response: Response) {
        let _ = self.inner.outbox.send(Out {
            channel: node_channel(&incoming.from),
            envelope: Envelope::Answer {
                id: incoming.id,
                response,
            },
            deadline: None,
        });
    }

    fn settle(&self, id: u64, response: Response) {
        if let Some(tx) = held(&self.inner.waiting).remove(&id) {
            let _ = tx.send(response);
        }
    }

    /// Publish what is queued, as one message per destination node.
    async fn publish(self, mut rx: mpsc::UnboundedReceiver<Out>) {
        while let Some(first) = rx.recv().await {
            let mut queued = vec![first];
            while queued.len() < MAX_ENVELOPES {
                match rx.try_recv() {
                    Ok(out) => queued.push(out),
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            let mut by_node: Vec<(String, Vec<Envelope>)> = Vec::new();
            for out in queued {
                if out.deadline.is_some_and(|d| d < now) {
                    if let Envelope::Ask { id, .. } = out.envelope {
                        self.settle(id, Response::NotSent);
                    }
                    continue;
                }
                match by_node.iter_mut().find(|(c, _)| *c == out.channel) {
                    Some((_, list)) => list.push(out.envelope),
                    None => by_node.push((out.channel, vec![out.envelope])),
                }
            }
            for (channel, envelopes) in by_node {
                let sent = match serde_json::to_string(&envelopes) {
                    Ok(body) => self.inner.bus.publish(&channel, &body).await,
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = sent {
                    tracing::warn!(%channel, error = %e, "ledger requests could not be published");
                    for envelope in envelopes {
                        match envelope {
                            Envelope::Ask { id, .. } => self.settle(id, Response::NotSent),
                            // Its asker times out and says so.
                            Envelope::Answer { .. } => {
                                metrics::counter!("limelight_ledger_answers_lost_total")
                                    .increment(1);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Hear this node's channel: requests go to `incoming`, answers to their askers.
    async fn listen(self, incoming: mpsc::UnboundedSender<Incoming>) {
        let channel = node_channel(&self.inner.node);
        let mut heard = self.inner.bus.listen_retrying(&channel).await;
        while let Some(h) = heard.recv().await {
            let body = match h {
                Heard::Event(body) => body,
                Heard::Gap => {
                    // Lost requests and answers time out where they were asked.
                    tracing::warn!("ledger requests or answers were lost; their askers time out");
                    continue;
                }
            };
            let envelopes: Vec<Envelope> = match serde_json::from_str(&body) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(error = %e, "a ledger message was not understood");
                    continue;
                }
            };
            for envelope in envelopes {
                match envelope {
                    Envelope::Ask {
                        from,
                        id,
                        session,
                        request,
                    } => {
                        let _ = incoming.send(Incoming {
                            session,
                            request,
                            from,
                            id,
                        });
                    }
                    Envelope::Answer { id, response } => self.settle(id, response),
                }
            }
        }
    }

    /// Every [`RENEW`]: renew the leases of sessions used lately, give up the rest.
    async fn renew(self) {
        let inner = &self.inner;
        loop {
            tokio::time::sleep(RENEW).await;
            let now = Instant::now();
            let (mut keep, mut idle) = (Vec::new(), Vec::new());
            for (session, h) in held(&inner.held).iter() {
                if now.duration_since(h.used) < KEEP_FOR {
                    keep.push(*session);
                } else {
                    idle.push(*session);
                }
            }
            for session in idle {
                held(&inner.held).remove(&session);
                if let Err(e) =
                    lease::release(inner.bus.redis(), &lease_key(session), &inner.node).await
                {
                    tracing::debug!(%session, error = %e, "a ledger lease lapses instead");
                }
            }
            let keys: Vec<String> = keep.iter().map(|s| lease_key(*s)).collect();
            match lease::renew_all(inner.bus.redis(), &keys, &inner.node, LEASE).await {
                Ok(kept) => {
                    let mut h = held(&inner.held);
                    for (session, kept) in keep.iter().zip(kept) {
                        match h.get_mut(session) {
                            Some(l) if kept => l.until = now + LEASE,
                            Some(_) => {
                                h.remove(session);
                            }
                            None => {}
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "ledger leases could not be renewed; they lapse");
                }
            }
        }
    }
}
