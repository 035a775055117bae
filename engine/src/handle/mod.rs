//! `EngineHandle`: the one door from the API into the engine. Every call is a typed
//! async method; storage and actor messaging happen behind it.
//!
//! Live-control calls follow one order: check the target, store the change (so a
//! restart or a failed canvas comes back with it), apply it to the canvas actor,
//! write the audit log, and publish an [`EngineEvent`] for consoles.

use crate::accounts::{Principals, RevokedTokens, passwords as users};
use crate::canvas::control::{LiveControl, mailbox, scene_spec};
use crate::canvas::directory::{self, Directory, OutputDefaults};
use crate::canvas::{CanvasSetup, LiveCommand, PreviewFrame};
use crate::clock::{Clock, WallClock};
use crate::cluster::relay::Change;
use crate::error::EngineError;
use crate::memo::Memo;
use crate::output::UniverseMap;
use crate::scene::file::{self, SceneError};
use crate::schedule::{Plan, Scheduler, Site};
use crate::store::{self, CanvasRecord, LiveField, NewAudit, SceneRecord, Store, UserRecord};
use actix::prelude::*;
use limelight_shared::audit::{AuditEntry, Page};
use limelight_shared::canvas::{Canvas, CanvasSpec, CanvasState};
use limelight_shared::control::{MAX_FADE_MS, TriggerScene};
use limelight_shared::ids::{CanvasId, SceneId, UserId};
use limelight_shared::scene::Scene;
use limelight_shared::users::{Role, User};
use limelight_shared::values::Percent;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

pub use crate::accounts::Principal;
pub use crate::published::EngineEvent;
use dto::*;
pub use start::EngineConfig;
pub(crate) use start::load_setup;
use start::*;

/// The engine, as the API sees it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    directory: Addr<Directory>,
    events: broadcast::Sender<EngineEvent>,
    /// Live control: stored-then-applied changes, one canvas lane at a time.
    live: LiveControl,
    /// What plays when: schedule entries and overrides.
    scheduler: Addr<Scheduler>,
    /// The venue, for the schedule's times.
    venue: Site,
    /// Each session's ledger, started on demand.
    sessions: Addr<crate::session::directory::SessionDirectory>,
    /// Who each user id is, for authenticated requests.
    principals: Principals,
    /// Tokens ended by logging out.
    revoked: RevokedTokens,
    /// Uploads in progress and the content directory.
    uploads: crate::content::Uploads,
    /// What each asset may play, and pictures ready for image layers.
    pictures: Arc<crate::content::Pictures>,
    /// The running inputs and the board of their values.
    inputs: Arc<crate::input::Inputs>,
    /// Commands from the MQTT command topic, until the API takes them.
    mqtt_commands: std::sync::Mutex<Option<crate::input::MqttCommands>>,
    /// The engine's monotonic clock.
    clock: Arc<dyn Clock>,
    /// The venue's wall clock.
    wall_clock: Arc<dyn WallClock>,
    /// When each celebration fired, and the rules that fire them.
    celebrations: crate::celebration::Celebrations,
    /// This node among the nodes sharing the database.
    cluster: Arc<crate::cluster::Cluster>,
    /// Announces this node's stored changes to the other nodes.
    relay: crate::cluster::relay::Relay,
    /// The fan-out through the nodes' shared Redis, when one is set.
    bus: Option<crate::bus::Bus>,
    /// Where sessions' ledgers run among the nodes (with `bus`).
    ledger_peers: Option<crate::session::booking::peers::LedgerPeers>,
    /// Who has a console open.
    consoles: std::sync::Arc<crate::consoles::Consoles>,
    /// Hot reads answered from memory; each write through this handle clears its own.
    canvases: Memo<Vec<Canvas>>,
    scenes: Memo<Vec<Scene>>,
    cue_lists: Memo<Vec<limelight_shared::cues::CueList>>,
}

mod accounts;
mod alerts;
mod assets;
mod bookings;
mod calendar;
mod canvases;
mod celebrations;
mod cluster;
mod cue_lists;
mod dto;
mod inputs;
mod live;
mod rooms;
mod scenes;
mod schedule;
mod start;
mod templates;

impl EngineHandle {
    async fn start_canvas(&self, setup: CanvasSetup, cid: [u8; 16]) -> Result<(), EngineError> {
        self.inner
            .directory
            .send(directory::StartCanvas { setup, cid })
            .await
            .map_err(mailbox)?
    }

    /// The storage backend in use: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.inner.store.backend()
    }

    /// Whether the engine can serve: the database answers, and when Redis is
    /// set, a message published there comes back on this node's subscription.
    pub async fn ready(&self) -> Result<(), EngineError> {
        self.inner.store.ping().await?;
        if let Some(bus) = &self.inner.bus {
            let trip = bus.round_trip().await;
            if !trip.ok {
                tracing::warn!(error = ?trip.error, "the fan-out through Redis failed its round trip");
                return Err(EngineError::Unavailable(
                    "Redis does not carry the nodes' fan-out",
                ));
            }
        }
        Ok(())
    }

    /// The connections to the nodes' shared Redis, when one is set.
    pub fn redis(&self) -> Option<crate::bus::Redis> {
        self.inner.bus.as_ref().map(|b| b.redis().clone())
    }

    /// Events for consoles. A receiver that falls more than 1024 events behind
    /// misses the oldest and should take a fresh snapshot.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// Stop every canvas (each stream a node on air sends ends with
    /// Stream_Terminated), then leave the cluster, so a standby takes over.
    pub async fn shutdown(&self) {
        if self
            .inner
            .directory
            .send(directory::Shutdown)
            .await
            .is_err()
        {
            tracing::warn!("directory already stopped at shutdown");
        }
        self.inner.cluster.stop(&self.inner.store).await;
    }

    /// The nodes, which one leads the output, and how the database answers.
    pub async fn cluster(&self) -> Result<limelight_shared::cluster::ClusterState, EngineError> {
        let mut state = self.inner.cluster.state(&self.inner.store).await?;
        if let Some(bus) = &self.inner.bus {
            state.redis = Some(bus.round_trip().await);
        }
        Ok(state)
    }

    /// Where this node's HTTP server listens (shown in the cluster's list).
    pub fn set_http_addr(&self, addr: std::net::SocketAddr) {
        self.inner.cluster.set_http_addr(&addr.to_string());
    }

    /// Make a canvas's next render fail (tests of supervision). Its reload waits
    /// `restart_delay` first, which holds the canvas in its restart for that long.
    #[cfg(feature = "fault-injection")]
    pub async fn inject_render_fault(
        &self,
        id: CanvasId,
        restart_delay: std::time::Duration,
    ) -> Result<(), EngineError> {
        let fault = directory::InjectFault { id, restart_delay };
        match self.inner.directory.send(fault).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(EngineError::Canvas(crate::CanvasError::Unknown(id))),
            Err(e) => Err(mailbox(e)),
        }
    }
}
