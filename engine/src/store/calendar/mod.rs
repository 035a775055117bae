//! Venues, events, sessions and incidents: rows, and list queries that page, sort,
//! filter and search. One file per table group; the helpers and macros they share
//! are here.

use super::StoreError;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

diesel::define_sql_function!(
    /// SQL `lower()`, for case-insensitive search on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text
);

/// Rank of an urgency stored as text, so it sorts low → critical.
const URGENCY_RANK: &str =
    "CASE priority WHEN 'low' THEN 0 WHEN 'normal' THEN 1 WHEN 'high' THEN 2 ELSE 3 END";
/// Rank of an incident status, so it sorts open → resolved.
const STATUS_RANK: &str = "CASE status WHEN 'open' THEN 0 WHEN 'investigating' THEN 1 ELSE 2 END";

/// A page of rows and how many match in all.
#[derive(Debug, Clone)]
pub struct Rows<T> {
    /// This page.
    pub items: Vec<T>,
    /// Rows matching the filters.
    pub total: u64,
}

/// `%text%` for LIKE, with LIKE's wildcards in `text` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

/// A foreign-key refusal (a venue still has events) as a conflict naming `what`.
fn in_use(what: impl Into<String>) -> impl FnOnce(DieselError) -> StoreError {
    move |e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            StoreError::Conflict(what.into())
        }
        other => StoreError::Query(other),
    }
}

/// `$q` ordered by the column named in `$sort` (field, descending), or by
/// `$default`.
macro_rules! order_by {
    ($q:ident, $sort:expr, { $($name:literal => $column:expr),* $(,)? } else $default:expr) => {
        match $sort {
            $(($name, true) => $q.order($column.desc()),)*
            $(($name, false) => $q.order($column.asc()),)*
            (_, true) => $q.order($default.desc()),
            (_, false) => $q.order($default.asc()),
        }
    };
}

/// One page of `$q` (ties broken by `$id`) and the count of `$all`.
macro_rules! load_page {
    ($q:expr, $id:expr, $paging:expr, $all:expr, $conn:ident) => {{
        let items = $q
            .then_order_by($id.asc())
            .limit(i64::from($paging.limit))
            .offset($paging.offset())
            .load($conn)
            .await?;
        let total: i64 = $all.count().get_result($conn).await?;
        Ok(Rows {
            items,
            total: count(total),
        })
    }};
}

/// Queries for one table of rows with an `id`: get and delete.
macro_rules! by_id {
    ($record:ident in $table:ident: get $get:ident) => {
        impl Store {
            /// A row by id.
            pub async fn $get(&self, id: i64) -> Result<Option<$record>, StoreError> {
                with_read_conn!(self, |conn| {
                    Ok($table::table
                        .find(id)
                        .select($record::as_select())
                        .first(conn)
                        .await
                        .optional()?)
                })
            }
        }
    };
    ($record:ident in $table:ident: get $get:ident, delete $delete:ident, $in_use:literal) => {
        by_id!($record in $table: get $get);

        impl Store {
            /// Remove a row; whether there was one.
            pub async fn $delete(&self, id: i64) -> Result<bool, StoreError> {
                with_conn!(self, |conn| {
                    Ok(diesel::delete($table::table.find(id))
                        .execute(conn)
                        .await
                        .map_err(in_use($in_use))?
                        > 0)
                })
            }
        }
    };
}

mod event;
mod incident;
mod session;
mod venue;

pub use event::EventRecord;
pub use incident::IncidentRecord;
pub(crate) use session::LIVE;
pub use session::{BookingRecord, SessionRecord};
pub use venue::VenueRecord;
