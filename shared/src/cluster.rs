//! The nodes of a venue's Limelight and which of them drives the output.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// How Limelight runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClusterMode {
    /// One node on its own database (SQLite): it always drives the output.
    Single,
    /// Nodes sharing one PostgreSQL: the holder of the output lock drives the
    /// output, the others stand by.
    Cluster,
}

/// One node as it last reported itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterNode {
    /// Random at each start.
    pub id: String,
    /// Its configured name (`node_name`).
    pub name: String,
    /// Where its HTTP server listens.
    pub http_addr: String,
    /// When it started.
    pub started_at: DateTime<FixedOffset>,
    /// When it last reported itself (every second).
    pub seen_at: DateTime<FixedOffset>,
    /// It holds the output lock: it renders and sends the canvases.
    pub leader: bool,
    /// It is the node that answers this request.
    pub this: bool,
}

/// How one backing service answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceHealth {
    /// It answered.
    pub ok: bool,
    /// How long the answer took, in milliseconds.
    pub latency_ms: f64,
    /// Why not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /api/v1/cluster`: the nodes, the leader, and the backing services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterState {
    /// `single` or `cluster`.
    pub mode: ClusterMode,
    /// The id of the node answering.
    pub node: String,
    /// The id of the node driving the output; none while no node holds the
    /// lock (a takeover in progress).
    pub leader: Option<String>,
    /// The nodes seen in the last 10 seconds (only this one in `single` mode).
    pub nodes: Vec<ClusterNode>,
    /// The database (`sqlite` or `postgres`).
    pub database: String,
    /// How the database answers now.
    pub database_health: ServiceHealth,
    /// How the nodes' Redis answers now; absent without one (`redis_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<ServiceHealth>,
}
