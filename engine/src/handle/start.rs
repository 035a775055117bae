//! The composition root: `EngineHandle::start` opens storage, seeds an empty
//! database, builds every actor and wires them together; and how a canvas's setup
//! is rebuilt from its stored record (at start and after a restart).

use super::*;

/// Remove expired uploads now and then, on the engine's clock, for as long as
/// the engine runs.
async fn sweep_uploads(uploads: crate::content::Uploads, clock: Arc<dyn Clock>) {
    loop {
        clock.wait(UPLOAD_SWEEP_EVERY).await;
        if let Err(e) = uploads.sweep().await {
            tracing::warn!(error = %e, "expired uploads could not be removed");
        }
    }
}

/// Settings key of the grand master.
pub(super) const GRAND_MASTER_KEY: &str = "grand_master";
/// Events a slow subscriber may fall behind by before it misses some.
pub(super) const EVENT_BUFFER: usize = 1024;

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
    /// Where uploads and asset files are kept.
    pub content_dir: PathBuf,
    /// The largest upload taken, in bytes.
    pub max_upload: u64,
    /// How long an upload lives after its last chunk before it is removed.
    pub upload_ttl: std::time::Duration,
    /// Publish Limelight's status and the canvases' states over MQTT.
    pub status_mqtt: Option<crate::input::StatusMqtt>,
    /// This node's name among the nodes sharing a PostgreSQL database.
    pub node_name: String,
    /// The Redis the nodes share for fan-out and rate limits, if any.
    pub redis_url: Option<String>,
}

/// How often expired uploads are looked for.
const UPLOAD_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl EngineHandle {
    /// Open storage (migrating it), seed an empty database, and start every canvas.
    /// Must be called inside an actix system.
    pub async fn start(config: EngineConfig) -> Result<Self, EngineError> {
        let store = Store::open(&config.database_url).await?;
        let demo = seed(&store, &config).await?;
        let grand_master = stored_grand_master(&store).await?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (cue_reports, cue_reports_rx) = tokio::sync::mpsc::unbounded_channel();
        let clock = config.clock.clone();
        let folders = crate::content::Folders::open(&config.content_dir)
            .map_err(|e| EngineError::internal("the content directory", e))?;
        let pictures = crate::content::Pictures::start(folders.clone())
            .map_err(|e| EngineError::internal("the pictures thread", e))?;
        crate::content::refresh_all(&store, &pictures).await?;
        let inputs = Arc::new(crate::input::Inputs::new(clock.clone()));
        // Lead or stand by before any canvas sends.
        let cluster = Arc::new(crate::cluster::Cluster::new(
            &config.database_url,
            &config.node_name,
        ));
        let heard = cluster
            .clone()
            .run(&config.database_url, store.clone())
            .await;
        let directory = Directory::new(
            store.clone(),
            clock.clone(),
            OutputDefaults {
                bind: config.sacn_bind,
                multicast_ttl: config.multicast_ttl,
                multicast_interface: config.multicast_interface,
                frame_priority: config.frame_priority,
                on_air: cluster.on_air().clone(),
                node: cluster.cid_seed(),
            },
            events.clone(),
            cue_reports,
            grand_master,
            directory::LayerSources {
                pictures: pictures.clone(),
                inputs: inputs.board(),
            },
        )
        .start();
        let live = LiveControl::new(store.clone(), directory.clone());
        actix::spawn(crate::cue_list::recorder(
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
        )
        .stored_while(cluster.on_air().clone());
        // The scheduler's own thread: its planning never waits behind API work.
        let scheduler = Scheduler::start_in_arbiter(&Arbiter::new().handle(), |_| scheduler);
        let bus = match &config.redis_url {
            Some(url) => Some(
                crate::bus::Bus::start(url, cluster.id())
                    .map_err(|e| EngineError::invalid(format!("redis_url: {e}")))?,
            ),
            None => None,
        };
        let (ledger_peers, forwarded) = match &bus {
            Some(bus) => {
                let (peers, rx) =
                    crate::session::booking::peers::LedgerPeers::start(bus.clone(), cluster.id());
                (Some(peers), Some(rx))
            }
            None => (None, None),
        };
        let sessions = crate::session::directory::SessionDirectory::new(
            store.clone(),
            config.clock.clone(),
            config.wall_clock.clone(),
            events.clone(),
            config.session_idle,
        )
        .with_bus(bus.clone(), cluster.id());
        let sessions = crate::session::directory::SessionDirectory::start_in_arbiter(
            &Arbiter::new().handle(),
            |_| sessions,
        );
        let consoles = Arc::new(crate::consoles::Consoles::new(events.clone()));
        let uploads = crate::content::Uploads::new(
            store.clone(),
            folders,
            pictures.clone(),
            config.wall_clock.clone(),
            events.clone(),
            config.max_upload,
            config.upload_ttl,
        );
        uploads.recover().await?;
        actix::spawn(sweep_uploads(uploads.clone(), config.clock.clone()));
        let wall_clock = config.wall_clock.clone();
        let relay = cluster.relay(&store);
        let handle = Self {
            inner: Arc::new(Inner {
                store,
                directory,
                events,
                live,
                scheduler,
                venue: config.venue,
                sessions,
                principals: Principals::new(config.clock.clone()),
                revoked: RevokedTokens::new(config.clock.clone()),
                clock: config.clock,
                wall_clock: config.wall_clock.clone(),
                celebrations: crate::celebration::Celebrations::default(),
                relay,
                bus,
                ledger_peers,
                cluster,
                uploads,
                pictures,
                inputs,
                mqtt_commands: std::sync::Mutex::new(None),
                consoles,
                canvases: Memo::default(),
                scenes: Memo::default(),
                cue_lists: Memo::default(),
            }),
        };
        actix::spawn(handle.clone().follow(heard));
        if let Some(forwarded) = forwarded {
            actix::spawn(handle.clone().serve_forwarded(forwarded));
        }
        if let Some(bus) = &handle.inner.bus {
            let node = handle.inner.cluster.id().to_owned();
            crate::cluster::events::run(bus.clone(), node, handle.inner.events.clone());
        }
        handle.read_revoked_tokens().await?;
        handle.run_stored_inputs().await?;
        crate::input::start_watch(&handle.inner.inputs, handle.inner.events.clone());
        handle.run_stored_celebrations().await?;
        if let Some(status) = config.status_mqtt.clone() {
            let events = handle.inner.events.subscribe();
            let states = handle.states().await?;
            let commands = handle
                .inner
                .inputs
                .publish_status(status, states, events)
                .map_err(|e| EngineError::invalid(e.0))?;
            *handle
                .inner
                .mqtt_commands
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = commands;
        }
        if demo {
            handle.seed_demo_show(wall_clock.now()).await?;
        }
        Ok(handle)
    }

    /// The demo venue's show: a cue list, and a daily schedule that puts a moving
    /// look on every demo canvas all day, so a fresh start shows something at once.
    /// Made through the same calls as the API's, so it is checked the same way.
    async fn seed_demo_show(&self, now: chrono::DateTime<chrono::Utc>) -> Result<(), EngineError> {
        let canvases: Vec<(CanvasId, String)> = self
            .list_canvases()
            .await?
            .iter()
            .map(|c| (c.id, c.spec.name.as_str().to_owned()))
            .collect();
        let bad = |e: serde_json::Error| EngineError::internal("the demo show", e);
        // Without its scene files (another scene directory, say) the show is left
        // out: the venue starts all the same.
        if let Err(e) = self
            .create_cue_list(crate::venue::demo_cue_list().map_err(bad)?)
            .await
        {
            tracing::warn!(error = %e, "the demo cue list was not seeded");
        }
        for entry in crate::venue::demo_schedule(&canvases, now).map_err(bad)? {
            let name = entry.name.to_string();
            if let Err(e) = self.create_schedule(entry).await {
                tracing::warn!(entry = %name, error = %e, "a demo schedule entry was not seeded");
            }
        }
        tracing::info!("seeded the demo show: a cue list and a daily schedule");
        Ok(())
    }
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

pub(super) async fn setup_from_record(
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
    let cues = crate::cue_list::restore(store, record.live_cues.as_deref()).await?;
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
            pictures: None,
            inputs: None,
        },
        cid.into_bytes(),
    ))
}

/// The stored grand master; full when never set.
pub(super) async fn stored_grand_master(store: &Store) -> Result<Percent, EngineError> {
    Ok(store
        .setting(GRAND_MASTER_KEY)
        .await?
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|v| Percent::try_from(v).ok())
        .unwrap_or_default())
}

/// Seed an empty database: the scene files, and the demo venue's canvases when
/// configured. True when the demo canvases were seeded now (the demo show follows).
pub(super) async fn seed(store: &Store, config: &EngineConfig) -> Result<bool, EngineError> {
    if store.count_scenes().await? == 0
        && let Some(dir) = &config.scenes_dir
    {
        if dir.is_dir() {
            let files = file::load_dir(dir).map_err(SceneError::BrokenFiles)?;
            for (_, spec) in files {
                store
                    .insert_scene(spec.name.as_str(), &json(&spec), "file")
                    .await?;
            }
        } else {
            tracing::warn!(dir = %dir.display(), "scene directory not found; no scenes seeded");
        }
    }
    let demo = config.seed_demo_venue && store.list_canvases().await?.is_empty();
    if demo {
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
    Ok(demo)
}
