//! The nodes of a cluster: each writes its own row every second.

use super::schema::nodes;
use super::{Store, StoreError, with_conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

/// A node as it last wrote itself.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = nodes)]
pub struct NodeRecord {
    /// Random at each start.
    pub id: String,
    /// The configured name (`node_name`).
    pub name: String,
    /// The address its HTTP server listens on.
    pub http_addr: String,
    /// When it started (UTC).
    pub started_at: NaiveDateTime,
    /// When it last wrote itself (UTC).
    pub seen_at: NaiveDateTime,
    /// Whether it held the output lock then.
    pub leader: bool,
}

impl Store {
    /// Write `node` as it stands now.
    pub async fn write_node(&self, node: &NodeRecord) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::insert_into(nodes::table)
                .values(node)
                .on_conflict(nodes::id)
                .do_update()
                .set((
                    nodes::seen_at.eq(node.seen_at),
                    nodes::leader.eq(node.leader),
                    nodes::http_addr.eq(&node.http_addr),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// The nodes seen since `since`, by name; rows older than `forget` are
    /// removed first.
    pub async fn list_nodes(
        &self,
        since: NaiveDateTime,
        forget: NaiveDateTime,
    ) -> Result<Vec<NodeRecord>, StoreError> {
        with_conn!(self, |conn| {
            diesel::delete(nodes::table.filter(nodes::seen_at.lt(forget)))
                .execute(conn)
                .await?;
            Ok(nodes::table
                .filter(nodes::seen_at.ge(since))
                .order((nodes::name, nodes::started_at))
                .select(NodeRecord::as_select())
                .load(conn)
                .await?)
        })
    }

    /// Remove `id`'s row (a node stopping on purpose).
    pub async fn remove_node(&self, id: &str) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::delete(nodes::table.find(id)).execute(conn).await?;
            Ok(())
        })
    }
}

impl Store {
    /// Announce `payload` on PostgreSQL's `LISTEN/NOTIFY` channel `channel`, for
    /// the other nodes; nothing on SQLite, where a node is alone.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        match self {
            Store::Postgres(pool) => {
                let mut conn = pool.get().await?;
                diesel::sql_query("SELECT pg_notify($1, $2)")
                    .bind::<diesel::sql_types::Text, _>(channel)
                    .bind::<diesel::sql_types::Text, _>(payload)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
            Store::Sqlite { .. } => Ok(()),
        }
    }
}
