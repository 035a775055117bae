//! Several nodes, one venue. On SQLite a node is alone and always drives the
//! output. On PostgreSQL any number of nodes share the database, and exactly one
//! of them at a time renders onto the wire: the holder of a PostgreSQL advisory
//! lock, taken on a connection of its own. The others stand by, rendering the
//! same canvases without sending (see [`OnAir`]), and take the lock when the
//! leader's session ends (the process died, or its connection was cut).
//!
//! The lock's connection is checked every [`CHECK_EVERY`]: a check that fails or
//! times out takes the node off air at once and drops the connection, so a node
//! that cannot see the database stops sending before another takes over. Each
//! node sends as a source of its own ([`node_cid`]), so receivers see a takeover
//! as a new source rather than a jump in one source's sequence.
//!
//! Every node writes its row in `nodes` each second, for `GET /api/v1/cluster`.
//! This runs on the cluster's own thread, never on a frame or sender thread.
//!
//! Every change a node stores is announced to the others ([`relay`]), so that
//! the leader takes commands given on any node and the standbys keep its state.

pub mod events;
pub mod relay;

use crate::output::OnAir;
use crate::store::{NodeRecord, Store, StoreError};
use chrono::{NaiveDateTime, Utc};
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use limelight_shared::cluster::{ClusterMode, ClusterNode, ClusterState, ServiceHealth};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The advisory lock whose holder drives the output ("LLOUTPUT").
const OUTPUT_LOCK: i64 = 0x4C4C_4F55_5450_5554;
/// How often the lock is tried by a standby and checked by the leader.
pub const CHECK_EVERY: Duration = Duration::from_millis(250);
/// Longest a lock query may take before the connection counts as lost.
const QUERY_TIMEOUT: Duration = Duration::from_secs(1);
/// How often a node writes its row.
const BEAT_EVERY: Duration = Duration::from_secs(1);
/// Nodes not heard from for this long are not listed.
const LISTED_FOR: Duration = Duration::from_secs(10);
/// Rows not written for this long are removed.
const FORGOTTEN_AFTER: Duration = Duration::from_secs(3600);

/// This node and how it stands in the cluster.
#[derive(Debug)]
pub struct Cluster {
    mode: ClusterMode,
    id: String,
    name: String,
    started_at: NaiveDateTime,
    http_addr: Mutex<String>,
    on_air: OnAir,
    /// The thread that holds the lock and writes this node's row.
    thread: Mutex<Option<actix::Arbiter>>,
}

impl Cluster {
    /// This node, named `name`, on the database at `url`: alone on SQLite, on
    /// air from the start; in a cluster on PostgreSQL, off air until it leads.
    pub fn new(url: &str, name: &str) -> Self {
        let cluster = crate::store::is_postgres(url);
        Self {
            mode: if cluster {
                ClusterMode::Cluster
            } else {
                ClusterMode::Single
            },
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            started_at: Utc::now().naive_utc(),
            http_addr: Mutex::new(String::new()),
            on_air: if cluster { OnAir::off() } else { OnAir::on() },
            thread: Mutex::new(None),
        }
    }

    /// Stop leading or standing by: the lock's connection closes, so a standby
    /// takes over at its next try, and this node's row goes.
    pub async fn stop(&self, store: &Store) {
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            self.on_air.set(false);
            thread.stop();
            if let Err(e) = store.remove_node(&self.id).await {
                tracing::warn!(error = %e, "this node's row could not be removed");
            }
        }
    }

    /// Whether this node sends now; what every output of this node reads.
    pub fn on_air(&self) -> &OnAir {
        &self.on_air
    }

    /// The name that seeds this node's sACN component ids; none on a single
    /// node, which sends with each canvas's stored id.
    pub fn cid_seed(&self) -> Option<String> {
        (self.mode == ClusterMode::Cluster).then(|| self.name.clone())
    }

    /// Where this node's HTTP server listens, once it does.
    pub fn set_http_addr(&self, addr: &str) {
        *self
            .http_addr
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = addr.to_owned();
    }

    /// This node's id: random at each start.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What announces this node's changes to the others.
    pub fn relay(&self, store: &Store) -> relay::Relay {
        let store = (self.mode == ClusterMode::Cluster).then(|| store.clone());
        relay::Relay::new(self.id.clone(), store)
    }

    /// Try the lock once (at start, before any canvas sends, so a node that
    /// takes it is on air from its first frame), then keep leading or standing by
    /// on a thread of the cluster's own for as long as the process runs; and
    /// listen there to the other nodes' changes, which the answer yields. Does
    /// nothing on a single node (and the answer yields nothing).
    pub async fn run(
        self: Arc<Self>,
        url: &str,
        store: Store,
    ) -> tokio::sync::mpsc::UnboundedReceiver<relay::Change> {
        let (changes, heard) = tokio::sync::mpsc::unbounded_channel();
        if self.mode == ClusterMode::Single {
            return heard;
        }
        let mut lock = LockConnection::new(url, &self.name);
        let (this, cluster) = (self.clone(), self.clone());
        let (first_tx, first) = tokio::sync::oneshot::channel();
        let thread = actix::Arbiter::new();
        thread.spawn(async move {
            let leading = lock.step(false).await;
            this.on_air.set(leading);
            let _ = first_tx.send(leading);
            loop {
                tokio::time::sleep(CHECK_EVERY).await;
                let was = this.on_air.is_on();
                let now = lock.step(was).await;
                this.on_air.set(now);
                match (was, now) {
                    (false, true) => tracing::warn!(node = %this.name, "this node took over the output"),
                    (true, false) => tracing::error!(node = %this.name, "this node lost the output lock and stopped sending"),
                    _ => {}
                }
            }
        });
        if first.await.unwrap_or(false) {
            tracing::info!(node = %self.name, "this node leads the output");
        } else {
            tracing::info!(node = %self.name, "this node stands by: another leads the output");
        }
        thread.spawn(relay::listen(url.to_owned(), self.id.clone(), changes));
        thread.spawn(async move {
            loop {
                if let Err(e) = store.write_node(&self.record()).await {
                    tracing::warn!(error = %e, "this node's row could not be written");
                }
                tokio::time::sleep(BEAT_EVERY).await;
            }
        });
        *cluster
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(thread);
        heard
    }

    /// This node's row as it stands now.
    fn record(&self) -> NodeRecord {
        NodeRecord {
            id: self.id.clone(),
            name: self.name.clone(),
            http_addr: self
                .http_addr
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            started_at: self.started_at,
            seen_at: Utc::now().naive_utc(),
            leader: self.on_air.is_on(),
        }
    }

    /// The cluster as the database and this node see it now.
    pub async fn state(&self, store: &Store) -> Result<ClusterState, StoreError> {
        let started = Instant::now();
        let ping = store.ping().await;
        let database_health = ServiceHealth {
            ok: ping.is_ok(),
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            error: ping.as_ref().err().map(ToString::to_string),
        };
        let rows = match self.mode {
            ClusterMode::Single => vec![self.record()],
            ClusterMode::Cluster if ping.is_ok() => {
                let now = Utc::now().naive_utc();
                let ago = |d: Duration| now - chrono::Duration::from_std(d).unwrap_or_default();
                let mut rows = store
                    .list_nodes(ago(LISTED_FOR), ago(FORGOTTEN_AFTER))
                    .await?;
                // This node as it is now, whatever its last row said.
                rows.retain(|r| r.id != self.id);
                rows.push(self.record());
                rows.sort_by(|a, b| (&a.name, a.started_at).cmp(&(&b.name, b.started_at)));
                rows
            }
            ClusterMode::Cluster => vec![self.record()],
        };
        let time = |t: NaiveDateTime| t.and_utc().fixed_offset();
        let nodes: Vec<ClusterNode> = rows
            .into_iter()
            .map(|r| ClusterNode {
                this: r.id == self.id,
                id: r.id,
                name: r.name,
                http_addr: r.http_addr,
                started_at: time(r.started_at),
                seen_at: time(r.seen_at),
                leader: r.leader,
            })
            .collect();
        Ok(ClusterState {
            mode: self.mode,
            node: self.id.clone(),
            leader: nodes.iter().find(|n| n.leader).map(|n| n.id.clone()),
            nodes,
            database: store.backend().to_owned(),
            database_health,
            redis: None,
        })
    }
}

/// The connection that holds (or tries for) the output lock.
struct LockConnection {
    url: String,
    conn: Option<AsyncPgConnection>,
}

#[derive(diesel::QueryableByName)]
struct Held {
    #[diesel(sql_type = Bool)]
    held: bool,
}

impl LockConnection {
    /// The lock's connection to `url`, named for node `name` in
    /// `pg_stat_activity` (`limelight-output-<name>`).
    fn new(url: &str, name: &str) -> Self {
        let sep = if url.contains('?') { '&' } else { '?' };
        let label: String = format!("limelight-output-{name}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Self {
            url: format!("{url}{sep}application_name={label}"),
            conn: None,
        }
    }

    /// One check: whether this node holds the lock now. `held`: it did at the
    /// last check. Any failure drops the connection (and with it the lock) and
    /// answers false.
    async fn step(&mut self, held: bool) -> bool {
        match tokio::time::timeout(QUERY_TIMEOUT, self.query(held)).await {
            Ok(Ok(now)) => now,
            Ok(Err(e)) => {
                if held || self.conn.is_some() {
                    tracing::warn!(error = %e, "the output lock's connection failed");
                }
                self.conn = None;
                false
            }
            Err(_) => {
                tracing::warn!("the output lock's connection did not answer in time");
                self.conn = None;
                false
            }
        }
    }

    async fn query(&mut self, held: bool) -> Result<bool, String> {
        if self.conn.is_none() {
            let conn = AsyncPgConnection::establish(&self.url)
                .await
                .map_err(|e| e.to_string())?;
            self.conn = Some(conn);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok(false);
        };
        // A fresh connection holds nothing, whatever the last one did.
        let row: Held = if held {
            // A session lock lasts as long as its session: an answer on the
            // same connection is proof enough that it is still held.
            diesel::sql_query("SELECT true AS held")
                .get_result(conn)
                .await
        } else {
            diesel::sql_query("SELECT pg_try_advisory_lock($1) AS held")
                .bind::<BigInt, _>(OUTPUT_LOCK)
                .get_result(conn)
                .await
        }
        .map_err(|e| e.to_string())?;
        Ok(row.held)
    }
}

/// The sACN component id node `node` sends canvas `cid` with: a name-based
/// UUID (version 5 layout) of the two, the same at every start of that node.
pub fn node_cid(cid: [u8; 16], node: &str) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(cid)
        .chain_update(node.as_bytes())
        .finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out[6] = (out[6] & 0x0F) | 0x50;
    out[8] = (out[8] & 0x3F) | 0x80;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_node_sends_as_a_source_of_its_own_and_keeps_it() {
        let cid = [7u8; 16];
        let (a, b) = (node_cid(cid, "north"), node_cid(cid, "south"));
        assert_ne!(a, b);
        assert_ne!(a, cid);
        assert_eq!(a, node_cid(cid, "north"));
        assert_eq!(a[6] >> 4, 5, "a version 5 layout");
    }

    #[test]
    fn sqlite_is_a_single_node_on_air_from_the_start() {
        let node = Cluster::new("sqlite:///tmp/x.db", "solo");
        assert!(node.on_air().is_on());
        assert_eq!(node.cid_seed(), None);
        let node = Cluster::new("postgres://h/db", "north");
        assert!(!node.on_air().is_on());
        assert_eq!(node.cid_seed().as_deref(), Some("north"));
    }
}
