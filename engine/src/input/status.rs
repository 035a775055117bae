//! Limelight's own voice on MQTT: `<prefix>/status` is `online` (retained) while
//! it is connected and `offline` (its last will, retained) once it is not, and
//! `<prefix>/canvases/<id>/state` carries each canvas's live state as JSON
//! (retained), published at every change and again after every reconnect.
//!
//! One task polls the connection and backs off as an input's does; another turns
//! engine events into `try_publish` calls, which never wait: when the bounded
//! request queue is full a state is dropped and counted, and the next change or
//! reconnect brings the newest one.
//!
//! With commands on, the polling task also subscribes to `<prefix>/command` and
//! hands each message to [`MqttCommands`], which the API shell reads, carries out
//! as the configured user and answers on `<prefix>/command/result`.

use super::health::Backoff;
use crate::clock::Clock;
use crate::published::EngineEvent;
use limelight_shared::canvas::CanvasState;
use limelight_shared::ids::CanvasId;
use limelight_shared::input::{MqttTls, broker_address};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

/// Requests queued for the connection at most.
const REQUESTS: usize = 256;
/// How often the broker hears from an idle connection.
const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// Where and under which prefix Limelight publishes its status.
#[derive(Debug, Clone)]
pub struct StatusMqtt {
    /// `mqtt://host[:port]` or `mqtts://host[:port]`.
    pub broker: String,
    /// TLS settings for `mqtts://` (the system's authorities when absent).
    pub tls: Option<MqttTls>,
    /// Topic prefix, `limelight` by default.
    pub prefix: String,
    /// Client id at the broker.
    pub client_id: String,
    /// Take live-control commands on `<prefix>/command`.
    pub commands: bool,
}

/// Commands waiting at most; more are dropped (and counted) until there is room.
const COMMANDS: usize = 64;

/// Commands that arrived on `<prefix>/command`, and the way to answer them.
#[derive(Debug)]
pub struct MqttCommands {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    client: AsyncClient,
    result_topic: String,
}

impl MqttCommands {
    /// The next command's payload; `None` once the connection is gone for good.
    pub async fn next(&mut self) -> Option<Vec<u8>> {
        self.rx.recv().await
    }

    /// Publish an answer on `<prefix>/command/result` (never waits; dropped when
    /// the request queue is full).
    pub fn reply(&self, body: String) {
        if let Err(e) = self
            .client
            .try_publish(&self.result_topic, QoS::AtLeastOnce, false, body)
        {
            tracing::warn!(error = %e, "MQTT command answer dropped");
        }
    }
}

/// A connection made, ready to run on the thread that will poll it.
pub struct Publisher {
    events_loop: rumqttc::EventLoop,
    client: AsyncClient,
    prefix: String,
    map: Latest,
    commands: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
}

/// The newest state of each canvas, as JSON.
type Latest = Arc<Mutex<BTreeMap<CanvasId, String>>>;

fn latest(map: &Latest) -> std::sync::MutexGuard<'_, BTreeMap<CanvasId, String>> {
    map.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Make the connection: `states` are the canvases as they are now. With commands
/// on, also what reads them.
pub fn prepare(
    config: StatusMqtt,
    states: Vec<CanvasState>,
) -> Result<(Publisher, Option<MqttCommands>), limelight_shared::values::RangeError> {
    let address = broker_address(&config.broker)?;
    let status = format!("{}/status", config.prefix);
    let transport = super::tls::transport(&address, config.tls.as_ref())
        .map_err(limelight_shared::values::RangeError)?;
    let mut options = MqttOptions::new(config.client_id.clone(), address.host, address.port);
    options
        .set_transport(transport)
        .set_keep_alive(KEEP_ALIVE)
        .set_clean_session(true)
        .set_max_packet_size(super::mqtt::MAX_PACKET, super::mqtt::MAX_PACKET)
        .set_request_channel_capacity(REQUESTS)
        .set_last_will(LastWill::new(&status, "offline", QoS::AtLeastOnce, true));
    let (client, events_loop) = AsyncClient::new(options, REQUESTS);
    let map: Latest = Arc::new(Mutex::new(states.iter().map(|s| (s.id, json(s))).collect()));
    let (commands, reader) = if config.commands {
        let (tx, rx) = tokio::sync::mpsc::channel(COMMANDS);
        let reader = MqttCommands {
            rx,
            client: client.clone(),
            result_topic: format!("{}/command/result", config.prefix),
        };
        (Some(tx), Some(reader))
    } else {
        (None, None)
    };
    let publisher = Publisher {
        events_loop,
        client,
        prefix: config.prefix,
        map,
        commands,
    };
    Ok((publisher, reader))
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Publisher {
    /// Run on the current arbiter: poll, and publish `events`' canvas changes.
    pub fn run(self, events: broadcast::Receiver<EngineEvent>, clock: Arc<dyn Clock>) {
        let Publisher {
            events_loop,
            client,
            prefix,
            map,
            commands,
        } = self;
        actix::spawn(poll(
            events_loop,
            client.clone(),
            prefix.clone(),
            map.clone(),
            commands,
            clock,
        ));
        actix::spawn(forward(events, client, prefix, map));
    }
}

fn json(state: &CanvasState) -> String {
    serde_json::to_string(state).unwrap_or_default()
}

fn state_topic(prefix: &str, canvas: CanvasId) -> String {
    format!("{prefix}/canvases/{canvas}/state")
}

/// Poll the connection; on every ConnAck say `online` and every canvas's state.
async fn poll(
    mut events: rumqttc::EventLoop,
    client: AsyncClient,
    prefix: String,
    map: Latest,
    commands: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
    clock: Arc<dyn Clock>,
) {
    let command_topic = format!("{prefix}/command");
    let dropped = metrics::counter!("limelight_mqtt_commands_dropped_total");
    let mut backoff = Backoff::default();
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff.reset();
                let mut refused = client.try_publish(
                    format!("{prefix}/status"),
                    QoS::AtLeastOnce,
                    true,
                    "online",
                );
                for (canvas, state) in latest(&map).iter() {
                    refused = refused.and(client.try_publish(
                        state_topic(&prefix, *canvas),
                        QoS::AtMostOnce,
                        true,
                        state.clone(),
                    ));
                }
                if commands.is_some() {
                    refused = refused.and(client.try_subscribe(&command_topic, QoS::AtLeastOnce));
                }
                if let Err(e) = refused {
                    tracing::warn!(error = %e, "MQTT status: the request queue is full");
                }
                tracing::info!(%prefix, "MQTT status: online");
            }
            Ok(Event::Incoming(Packet::Publish(message))) if message.topic == command_topic => {
                if let Some(tx) = &commands
                    && tx.try_send(message.payload.to_vec()).is_err()
                {
                    dropped.increment(1);
                    tracing::warn!("MQTT command dropped: too many waiting");
                }
            }
            Ok(_) => {}
            Err(e) => {
                let wait = backoff.next(rand::random());
                tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "MQTT status connection lost; retrying");
                clock.wait(wait).await;
            }
        }
    }
}

/// Turn canvas changes into retained state messages.
async fn forward(
    mut events: broadcast::Receiver<EngineEvent>,
    client: AsyncClient,
    prefix: String,
    map: Latest,
) {
    let dropped = metrics::counter!("limelight_mqtt_status_dropped_total");
    loop {
        let state = match events.recv().await {
            Ok(EngineEvent::CanvasChanged(state)) => state,
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                dropped.increment(n);
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let body = json(&state);
        latest(&map).insert(state.id, body.clone());
        if client
            .try_publish(state_topic(&prefix, state.id), QoS::AtMostOnce, true, body)
            .is_err()
        {
            dropped.increment(1);
        }
    }
}
