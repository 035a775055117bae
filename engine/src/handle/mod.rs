//! `EngineHandle`: the one door from the API into the engine. Every call is a typed
//! async method; storage and actor messaging happen behind it.
//!
//! Live-control calls follow one order: check the target, store the change (so a
//! restart or a failed canvas comes back with it), apply it to the canvas actor,
//! write the audit log, and publish an [`EngineEvent`] for consoles.

use crate::accounts::{Principals, passwords as users};
use crate::canvas::{CanvasSetup, LiveCommand, PreviewFrame};
use crate::clock::{Clock, WallClock};
use crate::directory::{self, Directory, OutputDefaults};
use crate::error::EngineError;
use crate::live::{Live, mailbox, scene_spec};
use crate::memo::Memo;
use crate::output::UniverseMap;
use crate::scenes::{self, SceneFileError};
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

/// Settings key of the grand master.
const GRAND_MASTER_KEY: &str = "grand_master";
/// Events a slow subscriber may fall behind by before it misses some.
const EVENT_BUFFER: usize = 1024;

/// What the engine needs to start.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `postgres://…`, or a SQLite file path (`sqlite://` optional).
    pub database_url: String,
    /// Scene files seeded into an empty database.
    pub scenes_dir: Option<PathBuf>,
    /// Seed the demo venue's canvases into an empty database.
    pub seed_demo_venue: bool,
    /// Local address sACN is sent from.
    pub sacn_bind: SocketAddr,
    /// Multicast time-to-live.
    pub multicast_ttl: u32,
    /// Interface for multicast; the system's choice when absent.
    pub multicast_interface: Option<Ipv4Addr>,
    /// `SCHED_FIFO` priority of the threads that render and send frames (1-99), or
    /// 0 for normal scheduling.
    pub frame_priority: u8,
    /// Where the venue is and its time zone, for schedules.
    pub venue: Site,
    /// Monotonic time for frames, fades, cue waits and timers (the system's
    /// monotonic clock outside tests).
    pub clock: Arc<dyn Clock>,
    /// Civil time for the schedule and for holds (the system's clock outside tests).
    pub wall_clock: Arc<dyn WallClock>,
    /// How long a session's actors stay without use before they stop.
    pub session_idle: std::time::Duration,
}

pub use crate::accounts::Principal;

/// Something consoles should hear about.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// A canvas's live state changed.
    CanvasChanged(CanvasState),
    /// The grand master changed.
    GrandMaster(Percent),
    /// The scheduler changed what plays on a canvas (an entry, an override, a release).
    ScheduleChanged(limelight_shared::schedule::Change),
    /// An override was taken or released.
    OverrideChanged {
        /// The canvas.
        canvas: CanvasId,
        /// The override now in force, if any.
        info: Option<limelight_shared::schedule::OverrideInfo>,
    },
    /// A cue fired on a canvas, or its cue playback changed.
    Cue(limelight_shared::cues::CueEvent),
    /// A canvas failed and is being restarted.
    CanvasRestarted {
        /// The canvas.
        id: CanvasId,
        /// What failed.
        reason: String,
    },
    /// Places were offered to a waitlist entry (for its attendee).
    WaitlistOffer(limelight_shared::booking::WaitlistEntry),
    /// A booking was made (for its attendee).
    BookingConfirmed(limelight_shared::booking::Booking),
    /// An emergency event or a critical incident (for staff).
    SystemAlert(limelight_shared::ws::Alert),
}

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
    live: Live,
    /// What plays when: schedule entries and overrides.
    scheduler: Addr<Scheduler>,
    /// The venue, for the schedule's times.
    venue: Site,
    /// Each session's ledger, started on demand.
    sessions: Addr<crate::sessions::SessionDirectory>,
    /// Who each user id is, for authenticated requests.
    principals: Principals,
    /// Hot reads answered from memory; each write through this handle clears its own.
    canvases: Memo<Vec<Canvas>>,
    scenes: Memo<Vec<Scene>>,
    cue_lists: Memo<Vec<limelight_shared::cues::CueList>>,
}

/// Build a canvas's setup from its stored record; `None` if it is gone.
pub(crate) async fn load_setup(
    store: &Store,
    id: CanvasId,
) -> Result<Option<(CanvasSetup, [u8; 16])>, EngineError> {
    let Some(record) = store.canvas(id.0).await? else {
        return Ok(None);
    };
    setup_from_record(store, record).await.map(Some)
}

async fn setup_from_record(
    store: &Store,
    record: CanvasRecord,
) -> Result<(CanvasSetup, [u8; 16]), EngineError> {
    let spec = canvas_spec(&record)?;
    let scene = match &record.live_scene {
        // A scene deleted since is simply not shown.
        Some(name) => store
            .scene_by_name(name)
            .await?
            .map(|r| scene_spec(&r).map(Arc::new))
            .transpose()?,
        None => None,
    };
    let emergency = store.emergency(record.id).await?;
    let cues = crate::cues::restore(store, record.live_cues.as_deref()).await?;
    let cid = uuid::Uuid::parse_str(&record.cid)
        .map_err(|e| EngineError::internal(format!("canvas {} has a bad cid", record.id), e))?;
    Ok((
        CanvasSetup {
            id: CanvasId(record.id),
            spec,
            scene,
            master: Percent::try_from(record.live_master).unwrap_or_default(),
            blackout: record.live_blackout,
            emergency,
            grand_master: Percent::default(),
            restarts: 0,
            cues,
        },
        cid.into_bytes(),
    ))
}

fn canvas_spec(record: &CanvasRecord) -> Result<CanvasSpec, EngineError> {
    serde_json::from_str(&record.spec).map_err(|e| {
        EngineError::Store(store::StoreError::Corrupt(format!(
            "canvas {}: {e}",
            record.id
        )))
    })
}

fn scene_dto(record: &SceneRecord) -> Result<Scene, EngineError> {
    Ok(Scene {
        id: SceneId(record.id),
        origin: record.origin.clone(),
        spec: scene_spec(record)?,
    })
}

fn canvas_dto(record: &CanvasRecord) -> Result<Canvas, EngineError> {
    let spec = canvas_spec(record)?;
    let universes = UniverseMap::new(spec.pixels.get(), &spec.output)
        .map_err(|e| EngineError::internal(format!("stored canvas {}", record.id), e))?
        .range();
    Ok(Canvas {
        id: CanvasId(record.id),
        spec,
        universes,
    })
}

fn user_dto(record: &UserRecord) -> Result<User, EngineError> {
    Ok(User {
        id: UserId(record.id),
        username: record.username.clone(),
        role: record
            .role
            .parse()
            .map_err(|e: String| EngineError::Store(store::StoreError::Corrupt(e)))?,
        created_at: store::rfc3339(record.created_at),
    })
}

/// What a canvas shows from its stored state (a cue list, or else its scene), for
/// the scheduler to start from.
fn shown(record: &CanvasRecord) -> Option<limelight_shared::schedule::Play> {
    if let Some(cue_list) = crate::cues::stored_list(record.live_cues.as_deref()) {
        return Some(limelight_shared::schedule::Play::CueList { cue_list });
    }
    let live_scene = &record.live_scene;
    let scene = limelight_shared::scene::SceneName::try_from(live_scene.clone()?).ok()?;
    Some(limelight_shared::schedule::Play::Scene {
        scene,
        fade_ms: 0,
        curve: Default::default(),
    })
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

mod accounts;
mod alerts;
mod bookings;
mod canvases;
mod content;
mod cues;
mod events;
mod live;
mod rooms;
mod schedule;

impl EngineHandle {
    /// Open storage (migrating it), seed an empty database, and start every canvas.
    /// Must be called inside an actix system.
    pub async fn start(config: EngineConfig) -> Result<Self, EngineError> {
        let store = Store::open(&config.database_url).await?;
        seed(&store, &config).await?;
        let grand_master = stored_grand_master(&store).await?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (cue_reports, cue_reports_rx) = tokio::sync::mpsc::unbounded_channel();
        let clock = config.clock.clone();
        let directory = Directory::new(
            store.clone(),
            clock.clone(),
            OutputDefaults {
                bind: config.sacn_bind,
                multicast_ttl: config.multicast_ttl,
                multicast_interface: config.multicast_interface,
                frame_priority: config.frame_priority,
            },
            events.clone(),
            cue_reports,
            grand_master,
        )
        .start();
        let live = Live::new(store.clone(), directory.clone());
        actix::spawn(crate::cues::recorder(
            cue_reports_rx,
            live.clone(),
            events.clone(),
        ));
        let records = store.list_canvases().await?;
        let mut applied = HashMap::new();
        for record in &records {
            let (setup, cid) = setup_from_record(&store, record.clone()).await?;
            applied.insert(setup.id, shown(record));
            directory
                .send(directory::StartCanvas { setup, cid })
                .await
                .map_err(mailbox)??;
        }
        let mut plan = Plan::new(config.venue);
        plan.set_canvases(records.iter().map(|r| CanvasId(r.id)));
        schedule::load(&store, &mut plan).await?;
        let scheduler = Scheduler::new(
            plan,
            applied,
            store.clone(),
            live.clone(),
            clock,
            config.wall_clock.clone(),
            events.clone(),
        );
        // The scheduler's own thread: its planning never waits behind API work.
        let scheduler = Scheduler::start_in_arbiter(&Arbiter::new().handle(), |_| scheduler);
        let sessions = crate::sessions::SessionDirectory::new(
            store.clone(),
            config.wall_clock.clone(),
            events.clone(),
            config.session_idle,
        );
        let sessions =
            crate::sessions::SessionDirectory::start_in_arbiter(&Arbiter::new().handle(), |_| {
                sessions
            });
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                directory,
                events,
                live,
                scheduler,
                venue: config.venue,
                sessions,
                principals: Principals::new(config.clock),
                canvases: Memo::default(),
                scenes: Memo::default(),
                cue_lists: Memo::default(),
            }),
        })
    }

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

    /// Whether the engine can serve: the database answers.
    pub async fn ready(&self) -> Result<(), EngineError> {
        Ok(self.inner.store.ping().await?)
    }

    /// Events for consoles. A receiver that falls more than 1024 events behind
    /// misses the oldest and should take a fresh snapshot.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// Stop every canvas; each stream ends with Stream_Terminated.
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

/// The stored grand master; full when never set.
async fn stored_grand_master(store: &Store) -> Result<Percent, EngineError> {
    Ok(store
        .setting(GRAND_MASTER_KEY)
        .await?
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|v| Percent::try_from(v).ok())
        .unwrap_or_default())
}

/// Seed an empty database with the scene files and, if asked, the demo canvases.
async fn seed(store: &Store, config: &EngineConfig) -> Result<(), EngineError> {
    if store.count_scenes().await? == 0
        && let Some(dir) = &config.scenes_dir
    {
        if dir.is_dir() {
            let files = scenes::load_dir(dir).map_err(|errors| {
                let all: Vec<String> = errors.iter().map(SceneFileError::to_string).collect();
                EngineError::invalid(format!("scene files are broken:\n{}", all.join("\n")))
            })?;
            for (_, spec) in files {
                store
                    .insert_scene(spec.name.as_str(), &json(&spec), "file")
                    .await?;
            }
        } else {
            tracing::warn!(dir = %dir.display(), "scene directory not found; no scenes seeded");
        }
    }
    if config.seed_demo_venue && store.list_canvases().await?.is_empty() {
        let canvases =
            crate::venue::demo_canvases().map_err(|e| EngineError::internal("demo venue", e))?;
        for spec in canvases {
            store
                .insert_canvas(
                    spec.name.as_str(),
                    &json(&spec),
                    &uuid::Uuid::new_v4().to_string(),
                )
                .await?;
        }
    }
    Ok(())
}
