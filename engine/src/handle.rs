//! `EngineHandle`: the one door from the API into the engine. Every call is a typed
//! async method; storage and actor messaging happen behind it.
//!
//! Live-control calls follow one order: check the target, store the change (so a
//! restart or a failed canvas comes back with it), apply it to the canvas actor,
//! write the audit log, and publish an [`EngineEvent`] for consoles.

use crate::canvas::{CanvasSetup, LiveCommand, PreviewFrame};
use crate::clock::{Clock, MonotonicClock};
use crate::directory::{self, Directory, OutputDefaults};
use crate::error::EngineError;
use crate::library::{Lookup, SceneLibrary};
use crate::output::UniverseMap;
use crate::scenes::{self, SceneError};
use crate::store::{self, CanvasRecord, LiveField, NewAudit, SceneRecord, Store, UserRecord};
use crate::users;
use actix::prelude::*;
use limelight_shared::audit::{AuditEntry, Page};
use limelight_shared::canvas::{Canvas, CanvasSpec, CanvasState};
use limelight_shared::control::{MAX_FADE_MS, TriggerScene};
use limelight_shared::ids::{CanvasId, SceneId, UserId};
use limelight_shared::scene::{Scene, SceneSpec};
use limelight_shared::users::{Role, User};
use limelight_shared::values::Percent;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
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
}

/// Who is asking: for permissions (checked by the API) and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub id: UserId,
    /// User name.
    pub username: String,
    /// Role.
    pub role: Role,
}

/// Something consoles should hear about.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// A canvas's live state changed.
    CanvasChanged(CanvasState),
    /// The grand master changed.
    GrandMaster(Percent),
    /// A canvas failed and is being restarted.
    CanvasRestarted {
        /// The canvas.
        id: CanvasId,
        /// What failed.
        reason: String,
    },
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
    /// One lane per canvas: its live commands are stored and applied one at a time,
    /// so the stored state and what the canvas shows never disagree.
    lanes: std::sync::Mutex<HashMap<CanvasId, Arc<tokio::sync::Mutex<()>>>>,
    /// Parsed scenes by name.
    library: SceneLibrary,
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
    let cid = uuid::Uuid::parse_str(&record.cid)
        .map_err(|e| EngineError::Internal(format!("canvas {} has a bad cid: {e}", record.id)))?;
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

fn scene_spec(record: &SceneRecord) -> Result<SceneSpec, EngineError> {
    serde_json::from_str(&record.spec).map_err(|e| {
        EngineError::Store(store::StoreError::Corrupt(format!(
            "scene {}: {e}",
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
        .map_err(|e| EngineError::Internal(e.to_string()))?
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

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

impl EngineHandle {
    /// Open storage (migrating it), seed an empty database, and start every canvas.
    /// Must be called inside an actix system.
    pub async fn start(config: EngineConfig) -> Result<Self, EngineError> {
        let store = Store::open(&config.database_url).await?;
        seed(&store, &config).await?;
        let grand_master = stored_grand_master(&store).await?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
        let directory = Directory::new(
            store.clone(),
            clock,
            OutputDefaults {
                bind: config.sacn_bind,
                multicast_ttl: config.multicast_ttl,
                multicast_interface: config.multicast_interface,
                frame_priority: config.frame_priority,
            },
            events.clone(),
            grand_master,
        )
        .start();
        let handle = Self {
            inner: Arc::new(Inner {
                store,
                directory,
                events,
                lanes: std::sync::Mutex::default(),
                library: SceneLibrary::default(),
            }),
        };
        for record in handle.inner.store.list_canvases().await? {
            let (setup, cid) = setup_from_record(&handle.inner.store, record).await?;
            handle.start_canvas(setup, cid).await?;
        }
        Ok(handle)
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
        restart_delay: Duration,
    ) -> Result<(), EngineError> {
        let fault = directory::InjectFault { id, restart_delay };
        match self.inner.directory.send(fault).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(EngineError::UnknownCanvas(id)),
            Err(e) => Err(mailbox(e)),
        }
    }

    // ---- users ----

    /// Check a login; the user if name and password match.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<User, EngineError> {
        let record = self.inner.store.user_by_name(username).await?;
        // Verify against a dummy hash when the user is unknown, so timing does not
        // tell which user names exist.
        let hash = record.as_ref().map_or_else(
            || "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2ymr6sUSPhx4oDOPrzy4Pn2M4mKCQ9EyQiJPNeXTPQU".to_owned(),
            |r| r.password_hash.clone(),
        );
        let ok = users::verify_password(password.to_owned(), hash).await;
        match record {
            Some(r) if ok => user_dto(&r),
            _ => Err(EngineError::BadCredentials),
        }
    }

    /// A user by id (for token checks: a deleted user's tokens stop working).
    pub async fn user(&self, id: UserId) -> Result<User, EngineError> {
        let record = self.inner.store.user(id.0).await?;
        record
            .as_ref()
            .map(user_dto)
            .transpose()?
            .ok_or(EngineError::UnknownUser(id.0))
    }

    /// All users.
    pub async fn list_users(&self) -> Result<Vec<User>, EngineError> {
        self.inner
            .store
            .list_users()
            .await?
            .iter()
            .map(user_dto)
            .collect()
    }

    /// Add a user.
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<User, EngineError> {
        users::validate_username(username)?;
        users::validate_password(password)?;
        let hash = users::hash_password(password.to_owned()).await?;
        let record = self
            .inner
            .store
            .insert_user(username, &hash, role.as_str())
            .await?;
        user_dto(&record)
    }

    /// Change a user's password and/or role. The last admin cannot be demoted.
    pub async fn update_user(
        &self,
        id: UserId,
        password: Option<&str>,
        role: Option<Role>,
    ) -> Result<User, EngineError> {
        let current = self.user(id).await?;
        if current.role == Role::Admin && role.is_some_and(|r| r != Role::Admin) {
            self.ensure_other_admin().await?;
        }
        let hash = match password {
            Some(p) => {
                users::validate_password(p)?;
                Some(users::hash_password(p.to_owned()).await?)
            }
            None => None,
        };
        let record = self
            .inner
            .store
            .update_user(id.0, hash.as_deref(), role.map(Role::as_str))
            .await?
            .ok_or(EngineError::UnknownUser(id.0))?;
        user_dto(&record)
    }

    /// Remove a user. The last admin cannot be removed.
    pub async fn delete_user(&self, id: UserId) -> Result<(), EngineError> {
        if self.user(id).await?.role == Role::Admin {
            self.ensure_other_admin().await?;
        }
        if self.inner.store.delete_user(id.0).await? {
            Ok(())
        } else {
            Err(EngineError::UnknownUser(id.0))
        }
    }

    async fn ensure_other_admin(&self) -> Result<(), EngineError> {
        if self.inner.store.count_role(Role::Admin.as_str()).await? <= 1 {
            return Err(EngineError::Conflict(
                "the last admin cannot be removed or demoted".into(),
            ));
        }
        Ok(())
    }

    /// Create the first admin if there is no user at all; returns the password it
    /// was given when it had to be generated.
    pub async fn ensure_admin(
        &self,
        password: Option<&str>,
    ) -> Result<Option<String>, EngineError> {
        if !self.inner.store.list_users().await?.is_empty() {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(p) => (p.to_owned(), false),
            None => (users::generate_password(), true),
        };
        self.create_user("admin", &password, Role::Admin).await?;
        Ok(generated.then_some(password))
    }

    // ---- scenes ----

    /// All scenes.
    pub async fn list_scenes(&self) -> Result<Vec<Scene>, EngineError> {
        self.inner
            .store
            .list_scenes()
            .await?
            .iter()
            .map(scene_dto)
            .collect()
    }

    /// A scene by id.
    pub async fn scene(&self, id: SceneId) -> Result<Scene, EngineError> {
        let record = self.inner.store.scene(id.0).await?;
        record
            .as_ref()
            .map(scene_dto)
            .transpose()?
            .ok_or_else(|| EngineError::UnknownScene(format!("with id {id}")))
    }

    /// The scene called `name`, from memory when it is there.
    async fn scene_named(&self, name: &str) -> Result<Arc<SceneSpec>, EngineError> {
        let generation = match self.inner.library.get(name) {
            Lookup::Hit(scene) => return Ok(scene),
            Lookup::Miss(generation) => generation,
        };
        let record = self
            .inner
            .store
            .scene_by_name(name)
            .await?
            .ok_or_else(|| EngineError::UnknownScene(format!("{name:?}")))?;
        let scene = Arc::new(scene_spec(&record)?);
        self.inner.library.fill(generation, scene.clone());
        Ok(scene)
    }

    /// Add a scene from a JSON body.
    pub async fn create_scene(&self, body: &[u8]) -> Result<Scene, EngineError> {
        let spec = scenes::parse_json(body)?;
        let record = self
            .inner
            .store
            .insert_scene(spec.name.as_str(), &json(&spec), "api")
            .await;
        self.inner.library.invalidate();
        scene_dto(&record?)
    }

    /// Replace a scene from a JSON body. Canvases showing it keep the version they
    /// took until the scene is triggered again.
    pub async fn update_scene(&self, id: SceneId, body: &[u8]) -> Result<Scene, EngineError> {
        let spec = scenes::parse_json(body)?;
        let record = self
            .inner
            .store
            .update_scene(id.0, spec.name.as_str(), &json(&spec))
            .await;
        // After the write: a lookup that read the old version cannot keep it.
        self.inner.library.invalidate();
        let record = record?.ok_or_else(|| EngineError::UnknownScene(format!("with id {id}")))?;
        scene_dto(&record)
    }

    /// Remove a scene. Canvases showing it keep showing it.
    pub async fn delete_scene(&self, id: SceneId) -> Result<(), EngineError> {
        let deleted = self.inner.store.delete_scene(id.0).await;
        self.inner.library.invalidate();
        if deleted? {
            Ok(())
        } else {
            Err(EngineError::UnknownScene(format!("with id {id}")))
        }
    }

    // ---- canvases ----

    /// All canvases with their configuration.
    pub async fn list_canvases(&self) -> Result<Vec<Canvas>, EngineError> {
        self.inner
            .store
            .list_canvases()
            .await?
            .iter()
            .map(canvas_dto)
            .collect()
    }

    /// A canvas's configuration.
    pub async fn canvas(&self, id: CanvasId) -> Result<Canvas, EngineError> {
        let record = self.inner.store.canvas(id.0).await?;
        record
            .as_ref()
            .map(canvas_dto)
            .transpose()?
            .ok_or(EngineError::UnknownCanvas(id))
    }

    /// Refuse a configuration whose universes leave sACN's range or overlap another
    /// canvas's.
    async fn check_universes(
        &self,
        spec: &CanvasSpec,
        except: Option<CanvasId>,
    ) -> Result<(), EngineError> {
        let map = UniverseMap::new(spec.pixels.get(), &spec.output)
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        for other in self.list_canvases().await? {
            if Some(other.id) == except {
                continue;
            }
            let theirs = UniverseMap::new(other.spec.pixels.get(), &other.spec.output)
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            if map.overlaps(&theirs) {
                let (a, b) = (map.range(), theirs.range());
                return Err(EngineError::Conflict(format!(
                    "universes {}-{} overlap canvas {:?} ({}-{})",
                    a.first,
                    a.last,
                    other.spec.name.as_str(),
                    b.first,
                    b.last
                )));
            }
        }
        Ok(())
    }

    /// Add a canvas and start it.
    pub async fn create_canvas(&self, spec: CanvasSpec) -> Result<Canvas, EngineError> {
        self.check_universes(&spec, None).await?;
        let cid = uuid::Uuid::new_v4();
        let record = self
            .inner
            .store
            .insert_canvas(spec.name.as_str(), &json(&spec), &cid.to_string())
            .await?;
        let (setup, cid) = setup_from_record(&self.inner.store, record.clone()).await?;
        self.start_canvas(setup, cid).await?;
        canvas_dto(&record)
    }

    /// Replace a canvas's configuration and restart it with it (live state kept).
    pub async fn update_canvas(
        &self,
        id: CanvasId,
        spec: CanvasSpec,
    ) -> Result<Canvas, EngineError> {
        self.check_universes(&spec, Some(id)).await?;
        let record = self
            .inner
            .store
            .update_canvas(id.0, spec.name.as_str(), &json(&spec))
            .await?
            .ok_or(EngineError::UnknownCanvas(id))?;
        let (setup, cid) = setup_from_record(&self.inner.store, record.clone()).await?;
        self.start_canvas(setup, cid).await?;
        canvas_dto(&record)
    }

    /// Stop a canvas (Stream_Terminated) and remove it.
    pub async fn delete_canvas(&self, id: CanvasId) -> Result<(), EngineError> {
        if !self.inner.store.delete_canvas(id.0).await? {
            return Err(EngineError::UnknownCanvas(id));
        }
        self.inner
            .directory
            .send(directory::RemoveCanvas(id))
            .await
            .map_err(mailbox)?;
        Ok(())
    }

    // ---- live control ----

    /// What every canvas shows now, by id.
    pub async fn states(&self) -> Result<Vec<CanvasState>, EngineError> {
        self.inner
            .directory
            .send(directory::ListStates)
            .await
            .map_err(mailbox)
    }

    /// What one canvas shows now.
    pub async fn state(&self, id: CanvasId) -> Result<CanvasState, EngineError> {
        self.states()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(EngineError::UnknownCanvas(id))
    }

    /// The grand master.
    pub async fn grand_master(&self) -> Result<Percent, EngineError> {
        stored_grand_master(&self.inner.store).await
    }

    /// The preview channel of a canvas: the newest rendered frame.
    pub async fn preview(
        &self,
        id: CanvasId,
    ) -> Result<watch::Receiver<Option<PreviewFrame>>, EngineError> {
        self.inner
            .directory
            .send(directory::GetPreview(id))
            .await
            .map_err(mailbox)?
            .ok_or(EngineError::UnknownCanvas(id))
    }

    /// Crossfade a canvas to a scene.
    pub async fn trigger_scene(
        &self,
        who: &Principal,
        id: CanvasId,
        cmd: &TriggerScene,
    ) -> Result<CanvasState, EngineError> {
        let work = async {
            if cmd.fade_ms > MAX_FADE_MS {
                return Err(EngineError::Invalid(format!(
                    "fade_ms must be at most {MAX_FADE_MS}, got {}",
                    cmd.fade_ms
                )));
            }
            let scene = self.scene_named(&cmd.scene).await?;
            let command = LiveCommand::TriggerScene {
                scene,
                fade: Duration::from_millis(u64::from(cmd.fade_ms)),
                curve: cmd.curve,
            };
            self.live(id, LiveField::Scene(cmd.scene.clone()), command)
                .await
        };
        let result = work.await;
        self.record(who, "trigger_scene", id, json(cmd), &result)
            .await
    }

    /// Blackout on or off.
    pub async fn set_blackout(
        &self,
        who: &Principal,
        id: CanvasId,
        on: bool,
    ) -> Result<CanvasState, EngineError> {
        let work = self.live(id, LiveField::Blackout(on), LiveCommand::Blackout(on));
        let result = work.await;
        let detail = serde_json::json!({ "on": on }).to_string();
        self.record(who, "blackout", id, detail, &result).await
    }

    /// Set a canvas master.
    pub async fn set_master(
        &self,
        who: &Principal,
        id: CanvasId,
        level: Percent,
    ) -> Result<CanvasState, EngineError> {
        let work = self.live(
            id,
            LiveField::Master(level.get()),
            LiveCommand::Master(level),
        );
        let result = work.await;
        let detail = serde_json::json!({ "level": level.get() }).to_string();
        self.record(who, "master", id, detail, &result).await
    }

    /// Latch or release the emergency override of a canvas.
    pub async fn set_emergency(
        &self,
        who: &Principal,
        id: CanvasId,
        on: bool,
    ) -> Result<CanvasState, EngineError> {
        let work = async {
            let _lane = self.lane(id).await;
            self.ensure_canvas(id).await?;
            self.inner
                .store
                .set_emergency(id.0, on, &who.username)
                .await?;
            self.control(id, LiveCommand::Emergency(on)).await
        };
        let result = work.await;
        let detail = serde_json::json!({ "on": on }).to_string();
        self.record(who, "emergency", id, detail, &result).await
    }

    /// Set the grand master, which scales every canvas.
    pub async fn set_grand_master(
        &self,
        who: &Principal,
        level: Percent,
    ) -> Result<Percent, EngineError> {
        let work = async {
            self.inner
                .store
                .set_setting(GRAND_MASTER_KEY, &level.get().to_string())
                .await?;
            self.inner
                .directory
                .send(directory::SetGrandMaster(level))
                .await
                .map_err(mailbox)?;
            Ok(level)
        };
        let result: Result<Percent, EngineError> = work.await;
        let detail = serde_json::json!({ "level": level.get() }).to_string();
        self.audit(
            who,
            "grand_master",
            "system",
            &detail,
            result.as_ref().err(),
        )
        .await;
        if let Ok(level) = result {
            let _ = self.inner.events.send(EngineEvent::GrandMaster(level));
        }
        result
    }

    async fn ensure_canvas(&self, id: CanvasId) -> Result<(), EngineError> {
        match self.inner.store.canvas(id.0).await? {
            Some(_) => Ok(()),
            None => Err(EngineError::UnknownCanvas(id)),
        }
    }

    /// Wait for the canvas's lane: live commands to one canvas go one at a time.
    async fn lane(&self, id: CanvasId) -> tokio::sync::OwnedMutexGuard<()> {
        let lane = self
            .inner
            .lanes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id)
            .or_default()
            .clone();
        lane.lock_owned().await
    }

    /// Store a live change, then hand it to the canvas. Stored first, so what an
    /// operator sees on the wire is already what a restart comes back to.
    async fn live(
        &self,
        id: CanvasId,
        field: LiveField,
        command: LiveCommand,
    ) -> Result<CanvasState, EngineError> {
        let _lane = self.lane(id).await;
        if !self.inner.store.save_live(id.0, field).await? {
            return Err(EngineError::UnknownCanvas(id));
        }
        self.control(id, command).await
    }

    async fn control(
        &self,
        id: CanvasId,
        command: LiveCommand,
    ) -> Result<CanvasState, EngineError> {
        self.inner
            .directory
            .send(directory::Control { id, command })
            .await
            .map_err(mailbox)?
    }

    /// Audit a canvas command and publish its outcome.
    async fn record(
        &self,
        who: &Principal,
        action: &str,
        id: CanvasId,
        detail: String,
        result: &Result<CanvasState, EngineError>,
    ) -> Result<CanvasState, EngineError> {
        let target = format!("canvas:{id}");
        self.audit(who, action, &target, &detail, result.as_ref().err())
            .await;
        match result {
            Ok(state) => {
                let _ = self
                    .inner
                    .events
                    .send(EngineEvent::CanvasChanged(state.clone()));
                Ok(state.clone())
            }
            Err(e) => Err(clone_error(e)),
        }
    }

    async fn audit(
        &self,
        who: &Principal,
        action: &str,
        target: &str,
        detail: &str,
        error: Option<&EngineError>,
    ) {
        let message = error.map(ToString::to_string);
        let entry = NewAudit {
            username: &who.username,
            action,
            target,
            detail,
            error: message.as_deref(),
        };
        if let Err(e) = self.inner.store.append_audit(entry).await {
            tracing::error!(error = %e, action, target, "could not write the audit log");
        }
    }

    /// One page of the audit log, newest first. `page` counts from 1.
    pub async fn audit_log(&self, page: u32, limit: u32) -> Result<Page<AuditEntry>, EngineError> {
        let offset = i64::from(page.saturating_sub(1)) * i64::from(limit);
        let (rows, total) = self
            .inner
            .store
            .audit_page(offset, i64::from(limit))
            .await?;
        let items = rows
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: store::rfc3339(r.at),
                username: r.username,
                action: r.action,
                target: r.target,
                detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
                outcome: r.outcome,
                error: r.error,
            })
            .collect();
        Ok(Page {
            items,
            page,
            limit,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

/// The result is audited and returned; errors are not `Clone` because of the store
/// error inside, so they are rebuilt with the same meaning.
fn clone_error(e: &EngineError) -> EngineError {
    match e {
        EngineError::UnknownCanvas(id) => EngineError::UnknownCanvas(*id),
        EngineError::UnknownScene(s) => EngineError::UnknownScene(s.clone()),
        EngineError::UnknownUser(id) => EngineError::UnknownUser(*id),
        EngineError::Invalid(s) => EngineError::Invalid(s.clone()),
        EngineError::InvalidScene(s) => EngineError::InvalidScene(s.clone()),
        EngineError::Conflict(s) => EngineError::Conflict(s.clone()),
        EngineError::BadCredentials => EngineError::BadCredentials,
        EngineError::Restarting(id) => EngineError::Restarting(*id),
        EngineError::Store(s) => EngineError::Internal(s.to_string()),
        EngineError::Internal(s) => EngineError::Internal(s.clone()),
    }
}

fn mailbox(e: MailboxError) -> EngineError {
    EngineError::Internal(format!("engine actor unavailable: {e}"))
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
                let all: Vec<String> = errors.iter().map(SceneError::to_string).collect();
                EngineError::Invalid(format!("scene files are broken:\n{}", all.join("\n")))
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
        let canvases = crate::venue::demo_canvases()
            .map_err(|e| EngineError::Internal(format!("demo venue: {e}")))?;
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
