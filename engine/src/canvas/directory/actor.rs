//! The directory actor.

use super::messages::*;
use crate::CanvasError;
use crate::canvas::playback::CueRefusal;
use crate::canvas::{
    CanvasActor, CanvasFailed, CueReport, GetState, Inbox, LiveCommand, PreviewFrame, RunCue,
    TakeCommands,
};
use crate::clock::Clock;
use crate::error::EngineError;
use crate::output::{OutputConfig, OutputHandle, UniverseMap, spawn_output};
use crate::published::EngineEvent;
use crate::store::Store;
use actix::prelude::*;
use limelight_shared::canvas::CanvasState;
use limelight_shared::ids::CanvasId;
use limelight_shared::values::Percent;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// The answer to a live command: the canvas state after it.
type Settled = Result<CanvasState, EngineError>;

/// Output settings shared by all canvases.
#[derive(Debug, Clone)]
pub struct OutputDefaults {
    /// Local address to send from.
    pub bind: SocketAddr,
    /// Multicast time-to-live.
    pub multicast_ttl: u32,
    /// Interface address for multicast; the system's choice when absent.
    pub multicast_interface: Option<std::net::Ipv4Addr>,
    /// Real-time priority of canvas and sender threads; 0 for normal scheduling.
    pub frame_priority: u8,
    /// Whether this node sends (see `crate::cluster`).
    pub on_air: crate::output::OnAir,
    /// Seed of this node's sACN component ids: a canvas's stored id on a single
    /// node; in a cluster each node sends as a source of its own.
    pub node: Option<String>,
}

struct Entry {
    addr: Addr<CanvasActor>,
    inbox: Arc<Inbox>,
    arbiter: Arbiter,
    output: OutputHandle,
    preview: Arc<watch::Sender<Option<PreviewFrame>>>,
    restarts: u32,
    /// Set while a failed canvas is reloaded; commands wait in `waiting`.
    restarting: bool,
    waiting: Vec<oneshot::Sender<Settled>>,
    /// Held before the next reload (tests of supervision).
    #[cfg(feature = "fault-injection")]
    restart_delay: Duration,
}

/// Supervisor and router of the canvases.
pub struct Directory {
    store: Store,
    clock: Arc<dyn Clock>,
    outputs: OutputDefaults,
    events: broadcast::Sender<EngineEvent>,
    reports: mpsc::UnboundedSender<CueReport>,
    canvases: BTreeMap<CanvasId, Entry>,
    grand_master: Percent,
    /// Pictures for the canvases' image layers.
    pictures: Arc<crate::content::Pictures>,
    /// Input values for the canvases' bound layer parameters.
    inputs: Arc<crate::input::InputBoard>,
}

/// What canvases' layers draw from besides their scenes.
#[derive(Debug, Clone)]
pub struct LayerSources {
    /// Pictures for image and video layers.
    pub pictures: Arc<crate::content::Pictures>,
    /// Input values for bound layer parameters.
    pub inputs: Arc<crate::input::InputBoard>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("canvases", &self.canvases.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Directory {
    /// A directory with no canvases yet.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        outputs: OutputDefaults,
        events: broadcast::Sender<EngineEvent>,
        reports: mpsc::UnboundedSender<CueReport>,
        grand_master: Percent,
        sources: LayerSources,
    ) -> Self {
        Self {
            pictures: sources.pictures,
            inputs: sources.inputs,
            store,
            clock,
            outputs,
            events,
            reports,
            canvases: BTreeMap::new(),
            grand_master,
        }
    }

    fn output_config(&self, msg: &StartCanvas) -> Result<OutputConfig, EngineError> {
        let spec = &msg.setup.spec;
        let map = UniverseMap::new(spec.pixels.get(), &spec.output)
            .map_err(|e| EngineError::invalid(e.to_string()))?;
        Ok(OutputConfig {
            canvas: msg.setup.id.0,
            map,
            channel_order: spec.output.channel_order,
            destinations: spec.output.destinations.clone(),
            priority: spec.output.priority.get(),
            sync_address: spec.output.sync_universe.map_or(0, |u| u.get()),
            source_name: spec
                .output
                .source_name
                .as_ref()
                .map_or_else(|| spec.name.as_str().to_owned(), |s| s.as_str().to_owned()),
            cid: match &self.outputs.node {
                None => msg.cid,
                Some(node) => crate::cluster::node_cid(msg.cid, node),
            },
            send_mode: spec.output.send_mode,
            keepalive: Duration::from_millis(u64::from(spec.output.keepalive_ms.get())),
            bind: self.outputs.bind,
            multicast_ttl: self.outputs.multicast_ttl,
            multicast_interface: self.outputs.multicast_interface,
            thread_priority: self.outputs.frame_priority,
            on_air: self.outputs.on_air.clone(),
        })
    }

    fn spawn_actor(
        &self,
        ctx: &mut Context<Self>,
        arbiter: &Arbiter,
        setup: crate::canvas::CanvasSetup,
        inbox: &Arc<Inbox>,
        output: &OutputHandle,
        preview: &Arc<watch::Sender<Option<PreviewFrame>>>,
    ) -> Addr<CanvasActor> {
        let mut setup = setup;
        setup.pictures = Some(self.pictures.clone());
        setup.inputs = Some(self.inputs.clone());
        let (inbox, clock, tx, preview, me, reports) = (
            inbox.clone(),
            self.clock.clone(),
            output.sender(),
            preview.clone(),
            ctx.address().recipient(),
            self.reports.clone(),
        );
        let priority = self.outputs.frame_priority;
        CanvasActor::start_in_arbiter(&arbiter.handle(), move |_| {
            // Runs on the canvas's own thread.
            crate::realtime::enter_frame_thread(priority);
            CanvasActor::new(setup, inbox, clock, tx, preview, me, reports)
        })
    }

    /// The state of a canvas once it has taken the commands in its inbox. While the
    /// canvas restarts, the answer waits for the canvas that replaces it. `retry`:
    /// whether a canvas found stopped may be waited for once more (it failed, and
    /// its supervisor is about to hear of it).
    fn settle(
        &mut self,
        id: CanvasId,
        retry: bool,
        ctx: &mut Context<Self>,
    ) -> ResponseFuture<Settled> {
        let Some(entry) = self.canvases.get_mut(&id) else {
            return Box::pin(async move { Err(EngineError::Canvas(CanvasError::Unknown(id))) });
        };
        if entry.restarting {
            let (tx, rx) = oneshot::channel();
            entry.waiting.push(tx);
            return Box::pin(async move {
                rx.await
                    .unwrap_or(Err(EngineError::Canvas(CanvasError::Restarting(id))))
            });
        }
        let (addr, me) = (entry.addr.clone(), ctx.address());
        Box::pin(async move {
            match addr.send(TakeCommands).await {
                Ok(state) => Ok(state),
                Err(_) if retry => me
                    .send(Settle(id))
                    .await
                    .map_err(|_| EngineError::Canvas(CanvasError::Restarting(id)))?,
                Err(_) => Err(EngineError::Canvas(CanvasError::Restarting(id))),
            }
        })
    }

    /// Answer the commands that waited for a restart.
    fn release_waiting(&mut self, id: CanvasId) {
        let Some(entry) = self.canvases.get_mut(&id) else {
            return;
        };
        entry.restarting = false;
        let waiting = std::mem::take(&mut entry.waiting);
        if waiting.is_empty() {
            return;
        }
        let addr = entry.addr.clone();
        actix::spawn(async move {
            let state = addr.send(TakeCommands).await;
            for tx in waiting {
                let answer = match &state {
                    Ok(state) => Ok(state.clone()),
                    Err(_) => Err(EngineError::Canvas(CanvasError::Restarting(id))),
                };
                let _ = tx.send(answer);
            }
        });
    }

    fn stop_entry(entry: Entry) {
        entry.arbiter.stop();
        // Ends the stream with Stream_Terminated and waits for the thread.
        entry.output.stop();
    }
}

impl Actor for Directory {
    type Context = Context<Self>;
}

impl Handler<StartCanvas> for Directory {
    type Result = Result<(), EngineError>;

    fn handle(&mut self, mut msg: StartCanvas, ctx: &mut Self::Context) -> Self::Result {
        let config = self.output_config(&msg)?;
        let old_inbox = self.canvases.remove(&msg.setup.id).map(|old| {
            let inbox = old.inbox.clone();
            Self::stop_entry(old);
            inbox
        });
        let output = spawn_output(config, self.clock.clone())
            .map_err(|e| EngineError::internal("cannot open the sACN socket", e))?;
        msg.setup.grand_master = self.grand_master;
        let arbiter = Arbiter::new();
        let preview = Arc::new(watch::channel(None).0);
        let id = msg.setup.id;
        // Commands sent to the canvas being replaced are taken by the new one.
        let inbox = old_inbox.unwrap_or_default();
        let addr = self.spawn_actor(ctx, &arbiter, msg.setup, &inbox, &output, &preview);
        self.canvases.insert(
            id,
            Entry {
                addr,
                inbox,
                arbiter,
                output,
                preview,
                restarts: 0,
                restarting: false,
                waiting: Vec::new(),
                #[cfg(feature = "fault-injection")]
                restart_delay: Duration::ZERO,
            },
        );
        Ok(())
    }
}

impl Handler<RemoveCanvas> for Directory {
    type Result = bool;

    fn handle(&mut self, msg: RemoveCanvas, _: &mut Self::Context) -> bool {
        match self.canvases.remove(&msg.0) {
            Some(entry) => {
                Self::stop_entry(entry);
                true
            }
            None => false,
        }
    }
}

impl Handler<CanvasFailed> for Directory {
    type Result = ();

    fn handle(&mut self, msg: CanvasFailed, ctx: &mut Self::Context) {
        let Some(entry) = self.canvases.get_mut(&msg.id) else {
            return;
        };
        entry.restarts += 1;
        entry.restarting = true;
        let restarts = entry.restarts;
        let _ = self.events.send(EngineEvent::CanvasRestarted {
            id: msg.id,
            reason: msg.reason,
        });
        #[cfg(feature = "fault-injection")]
        let delay = std::mem::take(&mut entry.restart_delay);
        #[cfg(not(feature = "fault-injection"))]
        let delay = Duration::ZERO;
        let store = self.store.clone();
        let id = msg.id;
        let delayed = self.clock.wait(delay);
        // Load the stored state off the canvas threads, then start a fresh actor on
        // the same arbiter with the same sender thread (sequence numbers continue,
        // and the sender's keep-alive covers the gap).
        let load = async move {
            delayed.await;
            crate::handle::load_setup(&store, id).await
        };
        ctx.spawn(load.into_actor(self).map(move |loaded, act, ctx| {
            let mut setup = match loaded {
                Ok(Some((setup, _cid))) => setup,
                Ok(None) => return act.release_waiting(id),
                Err(e) => {
                    tracing::error!(canvas = %id, error = %e, "cannot reload a failed canvas");
                    return act.release_waiting(id);
                }
            };
            setup.restarts = restarts;
            setup.grand_master = act.grand_master;
            let Some(entry) = act.canvases.get(&id) else {
                return;
            };
            let addr = act.spawn_actor(
                ctx,
                &entry.arbiter,
                setup,
                &entry.inbox,
                &entry.output,
                &entry.preview,
            );
            if let Some(entry) = act.canvases.get_mut(&id) {
                entry.addr = addr;
            }
            act.release_waiting(id);
            tracing::info!(canvas = %id, restarts, "canvas restarted");
        }));
    }
}

impl Handler<Control> for Directory {
    type Result = ResponseFuture<Result<CanvasState, EngineError>>;

    fn handle(&mut self, msg: Control, ctx: &mut Self::Context) -> Self::Result {
        if let Some(entry) = self.canvases.get(&msg.id) {
            entry.inbox.push(msg.command);
        }
        self.settle(msg.id, true, ctx)
    }
}

impl Handler<ControlCue> for Directory {
    type Result = ResponseFuture<Result<CanvasState, EngineError>>;

    fn handle(&mut self, msg: ControlCue, _: &mut Self::Context) -> Self::Result {
        let id = msg.id;
        let addr = match self.canvases.get(&id) {
            None => {
                return Box::pin(async move { Err(EngineError::Canvas(CanvasError::Unknown(id))) });
            }
            // Not queued: a cue command belongs to the moment it is given.
            Some(entry) if entry.restarting => {
                return Box::pin(
                    async move { Err(EngineError::Canvas(CanvasError::Restarting(id))) },
                );
            }
            Some(entry) => entry.addr.clone(),
        };
        Box::pin(async move {
            match addr.send(RunCue(msg.op)).await {
                Ok(Ok(state)) => Ok(state),
                Ok(Err(CueRefusal::Restarting)) | Err(_) => Err(CanvasError::Restarting(id).into()),
                Ok(Err(refusal)) => Err(CanvasError::Cue {
                    canvas: id,
                    refusal,
                }
                .into()),
            }
        })
    }
}

impl Handler<ControlAt> for Directory {
    type Result = bool;

    fn handle(&mut self, msg: ControlAt, _: &mut Self::Context) -> bool {
        match self.canvases.get(&msg.id) {
            Some(entry) => {
                entry.inbox.push_at(msg.command, msg.due);
                true
            }
            None => false,
        }
    }
}

impl Handler<DropTimed> for Directory {
    type Result = ();

    fn handle(&mut self, msg: DropTimed, _: &mut Self::Context) {
        if let Some(entry) = self.canvases.get(&msg.0) {
            entry.inbox.drop_timed();
        }
    }
}

impl Handler<Settle> for Directory {
    type Result = ResponseFuture<Result<CanvasState, EngineError>>;

    fn handle(&mut self, msg: Settle, ctx: &mut Self::Context) -> Self::Result {
        self.settle(msg.0, false, ctx)
    }
}

impl Handler<SetGrandMaster> for Directory {
    type Result = ();

    fn handle(&mut self, msg: SetGrandMaster, _: &mut Self::Context) {
        self.grand_master = msg.0;
        for entry in self.canvases.values() {
            entry.inbox.push(LiveCommand::GrandMaster(msg.0));
            entry.addr.do_send(TakeCommands);
        }
    }
}

impl Handler<GetStates> for Directory {
    type Result = ResponseFuture<Vec<CanvasState>>;

    fn handle(&mut self, _: GetStates, _: &mut Self::Context) -> Self::Result {
        let addrs: Vec<_> = self.canvases.values().map(|e| e.addr.clone()).collect();
        Box::pin(async move {
            let mut states = Vec::with_capacity(addrs.len());
            for addr in addrs {
                // A canvas in the middle of a restart is left out of this snapshot.
                if let Ok(state) = addr.send(GetState).await {
                    states.push(state);
                }
            }
            states
        })
    }
}

impl Handler<GetPreview> for Directory {
    type Result = Option<watch::Receiver<Option<PreviewFrame>>>;

    fn handle(&mut self, msg: GetPreview, _: &mut Self::Context) -> Self::Result {
        self.canvases.get(&msg.0).map(|e| e.preview.subscribe())
    }
}

impl Handler<Shutdown> for Directory {
    type Result = ();

    fn handle(&mut self, _: Shutdown, _: &mut Self::Context) {
        for (_, entry) in std::mem::take(&mut self.canvases) {
            Self::stop_entry(entry);
        }
    }
}

#[cfg(feature = "fault-injection")]
impl Handler<InjectFault> for Directory {
    type Result = bool;

    fn handle(&mut self, msg: InjectFault, _: &mut Self::Context) -> bool {
        match self.canvases.get_mut(&msg.id) {
            Some(entry) => {
                entry.restart_delay = msg.restart_delay;
                entry.addr.do_send(crate::canvas::InjectRenderFault);
                true
            }
            None => false,
        }
    }
}
