//! Inputs: sensor connections feeding named values to the canvases.
//!
//! - `board`: the named values (atomics written by inputs, read by canvases at
//!   the start of each frame) and a canvas's reader of them.
//! - `binding`: one binding's pipeline in plain Rust (pointer, range, smoothing,
//!   deadband).
//! - `status`: Limelight's own status and each canvas's state, published retained
//!   under a prefix.
//! - `health`: how an input stands (shared by what runs it and the API) and the
//!   backoff between attempts.
//! - `mqtt`: an MQTT input: the supervised actor, its polling task and the router
//!   of topics to bindings.
//! - `vision`: spots in a grey frame and blobs tracked across frames, in plain
//!   Rust.
//! - `tls`: TLS to a broker (rustls on ring), for inputs and the status
//!   connection alike.
//! - `camera`: a camera input: the supervised actor, the thread running its
//!   GStreamer pipeline (with the `media` feature) and its analysis.
//!
//! [`Inputs`] keeps the running inputs: it starts each one's actor on the inputs'
//! own thread (never a canvas's), replaces or retires it, and answers its state.

mod binding;
mod board;
mod camera;
mod health;
mod mqtt;
mod status;
mod tls;
#[cfg(feature = "media")]
mod vision;

#[cfg(test)]
pub use board::{Blob, Entry, Sighting};
pub use board::{CameraSlot, InputBoard, InputReader, Slot};
#[cfg(feature = "media")]
pub use camera::check_source;
pub use status::{MqttCommands, StatusMqtt};
pub use tls::check_tls;

use crate::clock::Clock;
use actix::prelude::*;
use camera::CameraInputActor;
use health::{Status, lock};
use limelight_shared::ids::InputId;
use limelight_shared::input::{InputName, InputSpec, InputState, ValueState};
use mqtt::{MqttInputActor, Retire};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A payload that makes an input's polling task panic, for supervision tests.
#[cfg(feature = "fault-injection")]
pub const PANIC_PAYLOAD: &[u8] = b"limelight-fault-injection:panic";

/// An element name that makes a camera's thread panic after its fifth frame,
/// for supervision tests.
#[cfg(all(feature = "fault-injection", feature = "media"))]
pub const CAMERA_PANIC_NAME: &str = "limelight_fault_injection_panic";

/// Why an input call was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// No input with that id.
    #[error("no input {0}")]
    Unknown(InputId),
    /// A value name is already another input's.
    #[error("the value name {name:?} belongs to input {input:?}")]
    ValueTaken {
        /// The name.
        name: String,
        /// The input that has it.
        input: String,
    },
}

/// How often consoles hear of changed values: at most 10 times a second each.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// What consoles last heard of an input.
#[derive(Debug, Default)]
struct Heard {
    status: Option<(limelight_shared::input::Connection, bool)>,
    values: Vec<(f64, bool)>,
    /// A camera's blobs as last told.
    blobs: Vec<limelight_shared::input::BlobState>,
}

/// Every [`WATCH_EVERY`], tell consoles (as engine events) of values that
/// changed and of connections that changed or went stale, for as long as the
/// engine runs.
pub async fn watch(
    inputs: Arc<Inputs>,
    events: tokio::sync::broadcast::Sender<crate::published::EngineEvent>,
) {
    use crate::published::EngineEvent;
    use limelight_shared::ws::SensorValue;
    let mut heard: HashMap<InputId, Heard> = HashMap::new();
    loop {
        inputs.clock.wait(WATCH_EVERY).await;
        let states = inputs.states();
        heard.retain(|id, _| states.iter().any(|s| s.id == *id));
        for state in states {
            let last = heard.entry(state.id).or_default();
            let stale = state.values.iter().any(|v| v.stale);
            if last.status != Some((state.connection, stale)) {
                last.status = Some((state.connection, stale));
                let _ = events.send(EngineEvent::InputStatus {
                    input: state.id,
                    name: state.name.clone(),
                    connection: state.connection,
                    stale,
                });
            }
            last.values.resize(state.values.len(), (f64::NAN, false));
            let changed: Vec<SensorValue> = state
                .values
                .iter()
                .zip(&mut last.values)
                .filter_map(|(v, seen)| {
                    let now = (v.value, v.stale);
                    (now != *seen).then(|| {
                        *seen = now;
                        SensorValue {
                            name: v.name.clone(),
                            value: v.value,
                            stale: v.stale,
                        }
                    })
                })
                .collect();
            if !changed.is_empty() {
                let _ = events.send(EngineEvent::SensorData {
                    input: state.id,
                    values: changed,
                });
            }
            if let Some(frame) = state.frame
                && state.blobs != last.blobs
            {
                last.blobs.clone_from(&state.blobs);
                let _ = events.send(EngineEvent::Blobs {
                    input: state.id,
                    frame,
                    blobs: state.blobs,
                });
            }
        }
    }
}

/// Start [`watch`] on the inputs' own thread.
pub fn start_watch(
    inputs: &Arc<Inputs>,
    events: tokio::sync::broadcast::Sender<crate::published::EngineEvent>,
) {
    let (inputs_c, arbiter) = (inputs.clone(), inputs.arbiter.clone());
    arbiter.spawn(watch(inputs_c, events));
}

/// One running input.
#[derive(Debug)]
struct Running {
    name: InputName,
    kind: &'static str,
    addr: Recipient<Retire>,
    status: Arc<Mutex<Status>>,
    values: Vec<(InputName, Arc<Slot>)>,
    camera: Option<Arc<CameraSlot>>,
}

/// The running inputs and the board they write.
#[derive(Debug)]
pub struct Inputs {
    board: Arc<InputBoard>,
    arbiter: ArbiterHandle,
    clock: Arc<dyn Clock>,
    running: Mutex<HashMap<InputId, Running>>,
}

impl Inputs {
    /// No inputs yet; their actors will run on a thread of their own.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            board: Arc::new(InputBoard::default()),
            arbiter: Arbiter::new().handle(),
            clock,
            running: Mutex::new(HashMap::new()),
        }
    }

    /// The board canvases read.
    pub fn board(&self) -> Arc<InputBoard> {
        self.board.clone()
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<InputId, Running>> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Start input `id` as `spec` says, in place of what ran under that id.
    pub fn run(&self, id: InputId, spec: &InputSpec) {
        self.retire(id);
        let status = Arc::new(Mutex::new(Status::default()));
        let running = match spec {
            InputSpec::Mqtt(mqtt) => {
                let values: Vec<(InputName, Arc<Slot>)> = mqtt
                    .bindings
                    .iter()
                    .map(|b| (b.name.clone(), Arc::new(Slot::new(b))))
                    .collect();
                for (name, slot) in &values {
                    self.board.insert(name.clone(), slot.clone());
                }
                let (spec_c, slots, status_c, clock) = (
                    mqtt.clone(),
                    values.iter().map(|(_, s)| s.clone()).collect(),
                    status.clone(),
                    self.clock.clone(),
                );
                let addr = Supervisor::start_in_arbiter(&self.arbiter, move |_| {
                    MqttInputActor::new(spec_c, slots, status_c, clock)
                });
                Running {
                    name: mqtt.name.clone(),
                    kind: spec.kind(),
                    addr: addr.recipient(),
                    status,
                    values,
                    camera: None,
                }
            }
            InputSpec::Camera(camera) => {
                let slot = Arc::new(CameraSlot::default());
                self.board.insert_camera(camera.name.clone(), slot.clone());
                let (spec_c, slot_c, status_c, clock) = (
                    camera.clone(),
                    slot.clone(),
                    status.clone(),
                    self.clock.clone(),
                );
                let addr = Supervisor::start_in_arbiter(&self.arbiter, move |_| {
                    CameraInputActor::new(spec_c, slot_c, status_c, clock)
                });
                Running {
                    name: camera.name.clone(),
                    kind: spec.kind(),
                    addr: addr.recipient(),
                    status,
                    values: Vec::new(),
                    camera: Some(slot),
                }
            }
        };
        self.running().insert(id, running);
    }

    /// Stop input `id` and take its values off the board.
    pub fn retire(&self, id: InputId) {
        let Some(old) = self.running().remove(&id) else {
            return;
        };
        old.addr.do_send(Retire);
        for (name, slot) in &old.values {
            // Only if the board still holds this input's slot under the name.
            if self
                .board
                .get(name)
                .is_some_and(|current| Arc::ptr_eq(&current, slot))
            {
                self.board.remove(name);
            }
        }
        if let Some(slot) = &old.camera
            && self
                .board
                .camera(&old.name)
                .is_some_and(|current| Arc::ptr_eq(&current, slot))
        {
            self.board.remove_camera(&old.name);
        }
    }

    /// Publish Limelight's status and the canvases' states over MQTT, from the
    /// inputs' thread; with commands on, what reads the command topic.
    pub fn publish_status(
        &self,
        config: StatusMqtt,
        states: Vec<limelight_shared::canvas::CanvasState>,
        events: tokio::sync::broadcast::Receiver<crate::published::EngineEvent>,
    ) -> Result<Option<MqttCommands>, limelight_shared::values::RangeError> {
        let (publisher, commands) = status::prepare(config, states)?;
        let clock = self.clock.clone();
        self.arbiter.spawn_fn(move || publisher.run(events, clock));
        Ok(commands)
    }

    /// How every running input stands now, by id.
    pub fn states(&self) -> Vec<InputState> {
        let mut ids: Vec<InputId> = self.running().keys().copied().collect();
        ids.sort();
        ids.into_iter().filter_map(|id| self.state(id)).collect()
    }

    /// How input `id` stands now.
    pub fn state(&self, id: InputId) -> Option<InputState> {
        let running = self.running();
        let r = running.get(&id)?;
        let now = self.clock.now();
        let s = lock(&r.status);
        let values = r
            .values
            .iter()
            .map(|(name, slot)| {
                let (value, stale) = slot.read(now);
                ValueState {
                    name: name.clone(),
                    value,
                    raw: slot.raw(),
                    age_ms: slot.age(now).map(|a| a.as_millis() as u64),
                    stale,
                    messages: slot.messages(),
                }
            })
            .collect();
        Some(InputState {
            id,
            name: r.name.clone(),
            kind: r.kind.into(),
            connection: s.connection,
            reconnects: s.reconnects,
            last_error: s.last_error.clone(),
            retry_in_ms: s
                .retry_at
                .map(|at| at.saturating_sub(now).as_millis() as u64),
            available: s.available,
            messages: s.messages,
            refused: s.refused,
            restarts: s.restarts,
            values,
            frame: s.frame,
            frames: s.frames,
            blobs: s.blobs.clone(),
            blob_events: s.blob_events,
        })
    }
}
