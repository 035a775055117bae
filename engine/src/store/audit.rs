//! The audit log.

use super::schema::audit_log;
use super::{Store, StoreError, with_conn, with_read_conn};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A stored audit entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRecord {
    /// Row id.
    pub id: i64,
    /// When (UTC).
    pub at: chrono::NaiveDateTime,
    /// Who.
    pub username: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Parameters as JSON.
    pub detail: String,
    /// `ok` or `error`.
    pub outcome: String,
    /// The error, if any.
    pub error: Option<String>,
}

/// An entry to add.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    /// Who.
    pub username: &'a str,
    /// What.
    pub action: &'a str,
    /// On what.
    pub target: &'a str,
    /// Parameters as JSON.
    pub detail: &'a str,
    /// The error, if the command failed.
    pub error: Option<&'a str>,
}

impl Store {
    /// Append an entry.
    pub async fn append_audit(&self, entry: NewAudit<'_>) -> Result<(), StoreError> {
        let row = (
            audit_log::at.eq(super::now()),
            audit_log::username.eq(entry.username),
            audit_log::action.eq(entry.action),
            audit_log::target.eq(entry.target),
            audit_log::detail.eq(entry.detail),
            audit_log::outcome.eq(if entry.error.is_some() { "error" } else { "ok" }),
            audit_log::error.eq(entry.error),
        );
        with_conn!(self, |conn| {
            diesel::insert_into(audit_log::table)
                .values(row)
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// One page of the log, newest first, and the total count.
    pub async fn audit_page(
        &self,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<AuditRecord>, i64), StoreError> {
        with_read_conn!(self, |conn| {
            let total = audit_log::table.count().get_result(conn).await?;
            let rows = audit_log::table
                .order(audit_log::id.desc())
                .offset(offset)
                .limit(limit)
                .select(AuditRecord::as_select())
                .load(conn)
                .await?;
            Ok((rows, total))
        })
    }
}
