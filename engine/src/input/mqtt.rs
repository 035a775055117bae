//! An MQTT input: a supervised actor whose polling task owns one rumqttc
//! connection. The task is the only one that touches the connection: it polls,
//! subscribes with `try_subscribe` on every ConnAck (the session is clean, so
//! the broker forgets subscriptions with each connection), and routes each
//! message through its binding's pipeline to the board. A lost connection waits
//! out a backoff (0.5 s doubling to 30 s, with jitter) on the engine's clock
//! before the next poll reconnects. If the task panics the actor stops, and its
//! supervisor starts it again with a fresh connection; the board's values stay
//! where they were, so no canvas notices.

use super::binding::{Pipeline, Refusal};
use super::board::Slot;
use super::health::{Backoff, Status, lock};
use crate::clock::Clock;
use actix::prelude::*;
use limelight_shared::input::{AvailabilityTopic, Connection, MqttInput};
use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Packet, QoS, StateError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The largest packet taken from or sent to a broker; a bigger one is refused
/// (and, as MQTT has it, ends the connection).
pub const MAX_PACKET: usize = 64 * 1024;
/// Requests (subscriptions) queued for the connection at most.
const REQUESTS: usize = 64;
/// How often the broker hears from an idle connection.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routed {
    /// Taken by this many bindings.
    Taken(usize),
    /// Refused by a binding (the first refusal counts).
    Refused(Refusal),
    /// The availability topic spoke.
    AvailabilityTopic(bool),
    /// No binding listens on the topic (a retained message of an old filter, say).
    Unmatched,
}

/// Topics to bindings, in plain Rust: exact topics by hash, filters with
/// wildcards one by one.
#[derive(Debug)]
pub struct Router {
    pipelines: Vec<Pipeline>,
    exact: HashMap<String, Vec<usize>>,
    wild: Vec<(String, usize)>,
    availability: Option<AvailabilityTopic>,
}

impl Router {
    /// A router for `spec`'s bindings writing `slots` (one per binding, in order).
    pub fn new(spec: &MqttInput, slots: &[Arc<Slot>]) -> Self {
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wild = Vec::new();
        let mut pipelines = Vec::new();
        for (i, (binding, slot)) in spec.bindings.iter().zip(slots).enumerate() {
            if binding.topic.contains(['+', '#']) {
                wild.push((binding.topic.clone(), i));
            } else {
                exact.entry(binding.topic.clone()).or_default().push(i);
            }
            pipelines.push(Pipeline::new(binding.clone(), slot.clone()));
        }
        Self {
            pipelines,
            exact,
            wild,
            availability: spec.availability.clone(),
        }
    }

    /// Every filter to subscribe to, once each.
    pub fn filters(&self) -> Vec<String> {
        let mut filters: Vec<String> = self
            .exact
            .keys()
            .cloned()
            .chain(self.wild.iter().map(|(f, _)| f.clone()))
            .chain(self.availability.iter().map(|a| a.topic.clone()))
            .collect();
        filters.sort();
        filters.dedup();
        filters
    }

    /// Route a message on `topic` at clock time `now`.
    pub fn route(&mut self, topic: &str, payload: &[u8], now: Duration) -> Routed {
        if let Some(a) = &self.availability
            && a.topic == topic
        {
            let word = std::str::from_utf8(payload).map(str::trim);
            let available = match word {
                Ok(w) if w == a.online => true,
                Ok(w) if w == a.offline => false,
                _ => return Routed::Refused(Refusal::NoNumber),
            };
            for p in &self.pipelines {
                p.slot().set_available(available);
            }
            return Routed::AvailabilityTopic(available);
        }
        let mut taken = 0;
        let mut refused = None;
        let exact = self.exact.get(topic).map(Vec::as_slice).unwrap_or(&[]);
        let wild = self
            .wild
            .iter()
            .filter(|(filter, _)| matches(filter, topic))
            .map(|(_, i)| *i);
        let targets: Vec<usize> = exact.iter().copied().chain(wild).collect();
        for i in targets {
            let Some(p) = self.pipelines.get_mut(i) else {
                continue;
            };
            match p.take(payload, now) {
                Ok(()) => taken += 1,
                Err(r) => refused = refused.or(Some(r)),
            }
        }
        match (taken, refused) {
            (0, Some(r)) => Routed::Refused(r),
            (0, None) => Routed::Unmatched,
            (n, _) => Routed::Taken(n),
        }
    }
}

/// Whether `topic` matches `filter` (`+` one level, `#` the rest). Topics that
/// start with `$` match no filter that starts with a wildcard, as MQTT has it.
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut levels = topic.split('/');
    for f in filter.split('/') {
        match (f, levels.next()) {
            ("#", _) => return true,
            ("+", Some(_)) => {}
            (f, Some(t)) if f == t => {}
            _ => return false,
        }
    }
    levels.next().is_none()
}

impl Status {
    pub(super) fn count(&mut self, routed: Routed) {
        self.messages += 1;
        match routed {
            Routed::Refused(Refusal::BadJson) => self.refused.not_json += 1,
            Routed::Refused(Refusal::NoNumber) => self.refused.not_a_number += 1,
            Routed::Refused(Refusal::NotFinite) => self.refused.not_finite += 1,
            Routed::AvailabilityTopic(a) => self.available = Some(a),
            Routed::Taken(_) | Routed::Unmatched => {}
        }
    }
}

/// The actor supervising one MQTT input's polling task.
pub struct MqttInputActor {
    spec: MqttInput,
    slots: Vec<Arc<Slot>>,
    status: Arc<Mutex<Status>>,
    clock: Arc<dyn Clock>,
    task: Option<tokio::task::AbortHandle>,
    /// Removed or replaced: never start again.
    retired: bool,
}

impl std::fmt::Debug for MqttInputActor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttInputActor")
            .field("name", &self.spec.name)
            .finish()
    }
}

impl MqttInputActor {
    /// An input writing `slots` (one per binding) and `status`.
    pub fn new(
        spec: MqttInput,
        slots: Vec<Arc<Slot>>,
        status: Arc<Mutex<Status>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            spec,
            slots,
            status,
            clock,
            task: None,
            retired: false,
        }
    }
}

impl Actor for MqttInputActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.retired {
            ctx.stop();
            return;
        }
        let task = actix::spawn(poll(
            self.spec.clone(),
            Router::new(&self.spec, &self.slots),
            self.status.clone(),
            self.clock.clone(),
        ));
        self.task = Some(task.abort_handle());
        ctx.spawn(task.into_actor(self).map(|ended, act, ctx| {
            if let Err(e) = ended
                && e.is_panic()
            {
                lock(&act.status).restarts += 1;
                tracing::error!(input = %act.spec.name, "the input failed; restarting it");
            }
            ctx.stop();
        }));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Supervised for MqttInputActor {
    fn restarting(&mut self, _: &mut Self::Context) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        lock(&self.status).connection = Connection::Reconnecting;
    }
}

/// Stop the input for good (it was removed or replaced).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Retire;

impl Handler<Retire> for MqttInputActor {
    type Result = ();

    fn handle(&mut self, _: Retire, ctx: &mut Self::Context) {
        self.retired = true;
        if let Some(task) = self.task.take() {
            task.abort();
        }
        ctx.stop();
    }
}

/// The polling task: connect, subscribe, route, and back off when the
/// connection is lost. Runs until aborted.
async fn poll(
    spec: MqttInput,
    mut router: Router,
    status: Arc<Mutex<Status>>,
    clock: Arc<dyn Clock>,
) {
    let address = match spec.address() {
        Ok(a) => a,
        Err(e) => {
            // Checked when the input was written; kept for a stored row gone bad.
            lock(&status).last_error = Some(e.0);
            return std::future::pending().await;
        }
    };
    let transport = match super::tls::transport(&address, spec.tls.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            // Checked when the input was written, unless the system's
            // authorities are what is missing.
            lock(&status).last_error = Some(e);
            return std::future::pending().await;
        }
    };
    let mut options = MqttOptions::new(spec.client_id(), address.host, address.port);
    options
        .set_transport(transport)
        .set_keep_alive(KEEP_ALIVE)
        .set_clean_session(true)
        .set_max_packet_size(MAX_PACKET, MAX_PACKET)
        .set_request_channel_capacity(REQUESTS);
    if let Some(user) = &spec.username {
        options.set_credentials(user, spec.password.clone().unwrap_or_default());
    }
    let (client, mut events) = AsyncClient::new(options, REQUESTS);
    let filters: Vec<rumqttc::SubscribeFilter> = router
        .filters()
        .into_iter()
        .map(|f| rumqttc::SubscribeFilter::new(f, QoS::AtMostOnce))
        .collect();
    let mut backoff = Backoff::default();
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff.reset();
                // From this task and without waiting: a full request queue is
                // an error here, never a deadlock of the task that drains it.
                let subscribed = if filters.is_empty() {
                    Ok(())
                } else {
                    client.try_subscribe_many(filters.clone())
                };
                let mut s = lock(&status);
                s.retry_at = None;
                match subscribed {
                    // Connected once the broker has the subscriptions (SubAck).
                    Ok(()) if filters.is_empty() => s.connection = Connection::Connected,
                    Ok(()) => {}
                    Err(e) => s.last_error = Some(format!("subscribing: {e}")),
                }
            }
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                lock(&status).connection = Connection::Connected;
            }
            Ok(Event::Incoming(Packet::Publish(message))) => {
                #[cfg(feature = "fault-injection")]
                if message.payload.as_ref() == super::PANIC_PAYLOAD {
                    #[expect(clippy::panic, reason = "fault injection for supervision tests")]
                    {
                        panic!("injected fault in input {}", spec.name);
                    }
                }
                let routed = router.route(&message.topic, &message.payload, clock.now());
                lock(&status).count(routed);
            }
            Ok(_) => {}
            Err(e) => {
                let too_large = matches!(
                    &e,
                    ConnectionError::MqttState(StateError::Deserialization(
                        rumqttc::Error::PayloadSizeLimitExceeded(_)
                    ))
                );
                let wait = backoff.next(rand::random());
                {
                    let mut s = lock(&status);
                    if too_large {
                        s.refused.too_large += 1;
                    }
                    s.connection = Connection::Reconnecting;
                    s.reconnects += 1;
                    s.last_error = Some(e.to_string());
                    s.retry_at = Some(clock.now() + wait);
                }
                tracing::warn!(input = %spec.name, error = %e, wait_ms = wait.as_millis() as u64, "MQTT connection lost; retrying");
                clock.wait(wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_as_mqtt_says() {
        assert!(matches("venue/lobby/presence", "venue/lobby/presence"));
        assert!(matches("venue/+/presence", "venue/lobby/presence"));
        assert!(matches("venue/#", "venue/lobby/presence"));
        assert!(matches("venue/#", "venue"));
        assert!(matches("#", "a/b"));
        assert!(!matches("#", "$SYS/broker"));
        assert!(!matches("venue/+", "venue/lobby/presence"));
        assert!(!matches("venue/lobby", "venue/lobby/presence"));
        assert!(!matches("venue/lobby/presence/x", "venue/lobby/presence"));
    }

    #[test]
    fn a_router_feeds_every_matching_binding_and_counts_what_it_refuses() {
        let spec: MqttInput = match serde_json::from_str(
            r#"{"name": "x", "broker": "mqtt://h",
                "availability": {"topic": "venue/status"},
                "bindings": [
                  {"name": "a", "topic": "venue/a", "pointer": "/v"},
                  {"name": "any", "topic": "venue/+", "pointer": "/v"}]}"#,
        ) {
            Ok(s) => s,
            Err(e) => unreachable!("test spec: {e}"),
        };
        let slots: Vec<Arc<Slot>> = spec
            .bindings
            .iter()
            .map(|b| Arc::new(Slot::new(b)))
            .collect();
        let mut router = Router::new(&spec, &slots);
        assert_eq!(
            router.filters(),
            ["venue/+", "venue/a", "venue/status"].map(String::from)
        );
        let now = Duration::from_secs(1);
        assert_eq!(
            router.route("venue/a", br#"{"v": 0.5}"#, now),
            Routed::Taken(2)
        );
        assert_eq!(
            router.route("venue/b", br#"{"v": 0.25}"#, now),
            Routed::Taken(1)
        );
        assert_eq!((slots[0].last(), slots[1].last()), (0.5, 0.25));
        assert_eq!(
            router.route("venue/b", b"{", now),
            Routed::Refused(Refusal::BadJson)
        );
        assert_eq!(router.route("other", b"1", now), Routed::Unmatched);
        assert_eq!(
            router.route("venue/status", b"offline", now),
            Routed::AvailabilityTopic(false)
        );
        assert_eq!(slots[0].read(now), (0.0, true));
    }
}
