//! The audit log of live-control commands and of the changes the schedule made,
//! and paging.

use serde::{Deserialize, Serialize};

/// One audited command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Position in the log (rises with time).
    pub id: i64,
    /// When, RFC 3339.
    pub at: String,
    /// Who: the user name, or `(schedule)` for a change the schedule made.
    pub username: String,
    /// What: the command, e.g. `trigger_scene`, or `schedule_change` (its detail
    /// is the change as consoles hear it).
    pub action: String,
    /// On what, e.g. `canvas:3`.
    pub target: String,
    /// The command's parameters.
    pub detail: serde_json::Value,
    /// `ok` or `error`.
    pub outcome: String,
    /// The error, when the command failed.
    pub error: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Page number, from 1.
    pub page: u32,
    /// Items per page.
    pub limit: u32,
    /// Items in all pages.
    pub total: u64,
}
