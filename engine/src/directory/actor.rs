//! The directory actor.

use super::messages::*;
use crate::canvas::{Apply, CanvasActor, CanvasFailed, GetState, LiveCommand, PreviewFrame};
use crate::clock::Clock;
use crate::error::EngineError;
use crate::handle::EngineEvent;
use crate::output::{OutputConfig, OutputHandle, UniverseMap, spawn_output};
use crate::store::Store;
use actix::prelude::*;
use limelight_shared::canvas::CanvasState;
use limelight_shared::ids::CanvasId;
use limelight_shared::values::Percent;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Output settings shared by all canvases.
#[derive(Debug, Clone)]
pub struct OutputDefaults {
    /// Local address to send from.
    pub bind: SocketAddr,
    /// Multicast time-to-live.
    pub multicast_ttl: u32,
    /// Interface address for multicast; the system's choice when absent.
    pub multicast_interface: Option<std::net::Ipv4Addr>,
}

struct Entry {
    addr: Addr<CanvasActor>,
    arbiter: Arbiter,
    output: OutputHandle,
    preview: Arc<watch::Sender<Option<PreviewFrame>>>,
    restarts: u32,
}

/// Supervisor and router of the canvases.
pub struct Directory {
    store: Store,
    clock: Arc<dyn Clock>,
    outputs: OutputDefaults,
    events: broadcast::Sender<EngineEvent>,
    canvases: BTreeMap<CanvasId, Entry>,
    grand_master: Percent,
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
        grand_master: Percent,
    ) -> Self {
        Self {
            store,
            clock,
            outputs,
            events,
            canvases: BTreeMap::new(),
            grand_master,
        }
    }

    fn output_config(&self, msg: &StartCanvas) -> Result<OutputConfig, EngineError> {
        let spec = &msg.setup.spec;
        let map = UniverseMap::new(spec.pixels.get(), &spec.output)
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
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
            cid: msg.cid,
            send_mode: spec.output.send_mode,
            keepalive: Duration::from_millis(u64::from(spec.output.keepalive_ms.get())),
            bind: self.outputs.bind,
            multicast_ttl: self.outputs.multicast_ttl,
            multicast_interface: self.outputs.multicast_interface,
        })
    }

    fn spawn_actor(
        &self,
        ctx: &mut Context<Self>,
        arbiter: &Arbiter,
        setup: crate::canvas::CanvasSetup,
        output: &OutputHandle,
        preview: &Arc<watch::Sender<Option<PreviewFrame>>>,
    ) -> Addr<CanvasActor> {
        let (clock, tx, preview, me) = (
            self.clock.clone(),
            output.sender(),
            preview.clone(),
            ctx.address().recipient(),
        );
        CanvasActor::start_in_arbiter(&arbiter.handle(), move |_| {
            CanvasActor::new(setup, clock, tx, preview, me)
        })
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
        if let Some(old) = self.canvases.remove(&msg.setup.id) {
            Self::stop_entry(old);
        }
        let output = spawn_output(config)
            .map_err(|e| EngineError::Internal(format!("cannot open the sACN socket: {e}")))?;
        msg.setup.grand_master = self.grand_master;
        let arbiter = Arbiter::new();
        let preview = Arc::new(watch::channel(None).0);
        let id = msg.setup.id;
        let addr = self.spawn_actor(ctx, &arbiter, msg.setup, &output, &preview);
        self.canvases.insert(
            id,
            Entry {
                addr,
                arbiter,
                output,
                preview,
                restarts: 0,
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
        let restarts = entry.restarts;
        let _ = self.events.send(EngineEvent::CanvasRestarted {
            id: msg.id,
            reason: msg.reason,
        });
        let store = self.store.clone();
        let id = msg.id;
        // Load the stored state off the canvas threads, then start a fresh actor on
        // the same arbiter with the same sender thread (sequence numbers continue,
        // and the sender's keep-alive covers the gap).
        let load = async move { crate::handle::load_setup(&store, id).await };
        ctx.spawn(load.into_actor(self).map(move |loaded, act, ctx| {
            let mut setup = match loaded {
                Ok(Some((setup, _cid))) => setup,
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(canvas = %id, error = %e, "cannot reload a failed canvas");
                    return;
                }
            };
            setup.restarts = restarts;
            setup.grand_master = act.grand_master;
            let Some(entry) = act.canvases.get(&id) else {
                return;
            };
            let addr = act.spawn_actor(ctx, &entry.arbiter, setup, &entry.output, &entry.preview);
            if let Some(entry) = act.canvases.get_mut(&id) {
                entry.addr = addr;
            }
            tracing::info!(canvas = %id, restarts, "canvas restarted");
        }));
    }
}

impl Handler<Control> for Directory {
    type Result = ResponseFuture<Result<CanvasState, EngineError>>;

    fn handle(&mut self, msg: Control, _: &mut Self::Context) -> Self::Result {
        let addr = self.canvases.get(&msg.id).map(|e| e.addr.clone());
        let id = msg.id;
        Box::pin(async move {
            let addr = addr.ok_or(EngineError::UnknownCanvas(id))?;
            addr.send(Apply(msg.command))
                .await
                .map_err(|_| EngineError::Restarting(id))
        })
    }
}

impl Handler<SetGrandMaster> for Directory {
    type Result = ();

    fn handle(&mut self, msg: SetGrandMaster, _: &mut Self::Context) {
        self.grand_master = msg.0;
        for entry in self.canvases.values() {
            entry.addr.do_send(Apply(LiveCommand::GrandMaster(msg.0)));
        }
    }
}

impl Handler<ListStates> for Directory {
    type Result = ResponseFuture<Vec<CanvasState>>;

    fn handle(&mut self, _: ListStates, _: &mut Self::Context) -> Self::Result {
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
        match self.canvases.get(&msg.0) {
            Some(entry) => {
                entry.addr.do_send(crate::canvas::InjectRenderFault);
                true
            }
            None => false,
        }
    }
}
