//! Storage with diesel + diesel-async on SQLite (a file in the data directory, the
//! default) or PostgreSQL (`postgres://` URLs). One schema serves both: the two
//! migration sets in `migrations/` create the same column types.
//!
//! Queries are written once and run on either backend through `with_conn!` (the
//! writer) or `with_read_conn!` (a reader connection on SQLite).

mod audit;
pub(crate) mod calendar;
mod canvases;
mod celebrations;
mod content;
mod cue_lists;
mod documents;
mod inputs;
mod nodes;
mod revoked_tokens;
mod scenes;
mod schedules;
pub mod schema;
mod settings;
mod templates;
mod users;

pub use audit::NewAudit;
pub use calendar::{BookingRecord, EventRecord, IncidentRecord, Rows, SessionRecord, VenueRecord};
pub use canvases::{CanvasRecord, LiveField};
pub use celebrations::CelebrationRecord;
pub use content::{AssetRecord, Decision, NewVersion, Reviewed, UploadRecord, VersionRecord};
pub use cue_lists::CueListRecord;
pub use inputs::InputRecord;
pub use nodes::NodeRecord;
pub use scenes::SceneRecord;
pub use schedules::{OverrideRecord, ScheduleRecord};
pub use templates::TemplateRecord;
pub use users::UserRecord;

use diesel::result::{ConnectionError, DatabaseErrorKind};
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection, Detached>;

/// Runs SQLite's blocking calls for the sync-connection wrapper. Unlike the
/// wrapper's default, a query whose future is dropped (a client that went away, an
/// extractor cancelled by another's failure) is not waited for in `Drop` — that
/// would block, and panics on actix's single-threaded workers. The query finishes
/// on the blocking pool and its result is discarded; the connection's own mutex
/// keeps the next query behind it.
#[derive(Debug)]
pub struct Detached(tokio::runtime::Handle);

/// The runtime whose blocking pool runs SQLite calls: one for the process, so a
/// connection never depends on the runtime of whichever thread opened it.
fn sqlite_runtime() -> Result<tokio::runtime::Handle, std::io::Error> {
    // Built inside `get_or_init`, so threads opening stores at once build one
    // runtime between them: a second one, dropped on an async thread, would panic.
    static RUNTIME: std::sync::OnceLock<Result<tokio::runtime::Runtime, String>> =
        std::sync::OnceLock::new();
    let built = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sqlite")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    match built {
        Ok(rt) => Ok(rt.handle().clone()),
        Err(e) => Err(std::io::Error::other(format!("the SQLite runtime: {e}"))),
    }
}

impl diesel_async::sync_connection_wrapper::SpawnBlocking for Detached {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> futures_core::future::BoxFuture<
        'a,
        Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>,
    >
    where
        R: Send + 'static,
    {
        let handle = self.0.spawn_blocking(task);
        Box::pin(async move {
            handle
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
    }

    fn get_runtime() -> Self {
        match sqlite_runtime() {
            Ok(handle) => Detached(handle),
            // Without a runtime of its own, fall back to the caller's.
            Err(_) => Detached(tokio::runtime::Handle::current()),
        }
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// A unique constraint refused the write.
    #[error("{0}")]
    Conflict(String),
    /// Migrations failed.
    #[error("migrations failed: {0}")]
    Migration(String),
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl<E: std::error::Error + 'static> From<bb8::RunError<E>> for StoreError {
    fn from(e: bb8::RunError<E>) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

impl From<diesel_async::pooled_connection::PoolError> for StoreError {
    fn from(e: diesel_async::pooled_connection::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Turn a unique-constraint violation into a conflict naming `what`.
pub(crate) fn conflict(
    what: impl Into<String>,
) -> impl FnOnce(diesel::result::Error) -> StoreError {
    move |e| match e {
        diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            StoreError::Conflict(what.into())
        }
        other => StoreError::Query(other),
    }
}

/// Reader connections of a SQLite database, beside its one writer: in WAL mode
/// readers never wait for the writer, nor it for them.
const SQLITE_READERS: u32 = 4;

/// A pool of connections to one database.
#[derive(Clone)]
pub enum Store {
    /// SQLite through the sync-connection wrapper (queries run on the blocking pool).
    Sqlite {
        /// The one connection that writes, and reads inside writes.
        writer: Pool<SqliteConn>,
        /// Read-only connections for reads on their own.
        readers: Pool<SqliteConn>,
    },
    /// PostgreSQL.
    Postgres(Pool<AsyncPgConnection>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::Sqlite { .. } => f.write_str("Store::Sqlite"),
            Store::Postgres(_) => f.write_str("Store::Postgres"),
        }
    }
}

/// Run `$body` with `$conn` bound to a connection of either backend, from the
/// SQLite pool named `$sqlite` (`writer` or `readers`). The body is compiled once
/// per backend, so every query in it must suit both.
macro_rules! with_pool {
    ($store:expr, $sqlite:ident, |$conn:ident| $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite { $sqlite: pool, .. } => {
                let mut guard = pool.get().await?;
                let $conn = &mut *guard;
                $body
            }
            $crate::store::Store::Postgres(pool) => {
                let mut guard = pool.get().await?;
                let $conn = &mut *guard;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// Run `$body` with `$conn` bound to the writer (a pooled connection on
/// PostgreSQL).
macro_rules! with_conn {
    ($store:expr, |$conn:ident| $body:expr) => {
        $crate::store::with_pool!($store, writer, |$conn| $body)
    };
}
pub(crate) use with_conn;

/// `with_conn!` for a body that only reads: on SQLite it runs on a reader
/// connection, so it never queues behind the writer.
macro_rules! with_read_conn {
    ($store:expr, |$conn:ident| $body:expr) => {
        $crate::store::with_pool!($store, readers, |$conn| $body)
    };
}
pub(crate) use with_read_conn;

/// Whether a database URL names PostgreSQL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The SQLite path of a `sqlite://` URL or a plain path.
fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

impl Store {
    /// Connect to `url` and run pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        migrate(url, Direction::Up).await?;
        if is_postgres(url) {
            let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
            let pool = Pool::builder()
                .max_size(8)
                .connection_timeout(std::time::Duration::from_secs(10))
                .build(manager)
                .await?;
            Ok(Store::Postgres(pool))
        } else {
            // One writer: SQLite has one anyway, and this rules out SQLITE_BUSY
            // between our own connections.
            let writer = sqlite_pool(url, 1, false).await?;
            let readers = sqlite_pool(url, SQLITE_READERS, true).await?;
            Ok(Store::Sqlite { writer, readers })
        }
    }

    /// Which backend this is: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite { .. } => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            conn.batch_execute("SELECT 1").await?;
            Ok(())
        })
    }
}

/// A pool of `size` connections to a SQLite file; `read_only` ones refuse writes.
async fn sqlite_pool(
    url: &str,
    size: u32,
    read_only: bool,
) -> Result<Pool<SqliteConn>, StoreError> {
    let mut config = ManagerConfig::<SqliteConn>::default();
    config.custom_setup = Box::new(move |url| {
        Box::pin(async move {
            let mut conn = SqliteConn::establish(sqlite_path(url)).await?;
            let setup = if read_only {
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;"
            } else {
                "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                 PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;"
            };
            conn.batch_execute(setup)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::new_with_config(url, config);
    // A file connection does not go stale, so it is not pinged on every checkout
    // (a round trip per query).
    Ok(Pool::builder()
        .max_size(size)
        .test_on_check_out(false)
        .connection_timeout(std::time::Duration::from_secs(10))
        .build(manager)
        .await?)
}

/// Which way to migrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Apply pending migrations.
    Up,
    /// Revert every applied migration.
    Down,
}

/// Apply or revert migrations on the database at `url`. Migrations use diesel's
/// blocking harness, so they run on the blocking pool.
pub async fn migrate(url: &str, direction: Direction) -> Result<(), StoreError> {
    let url = url.to_owned();
    let run = move || -> Result<(), String> {
        use diesel::Connection;
        if is_postgres(&url) {
            use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
            let mut conn =
                <AsyncConnectionWrapper<AsyncPgConnection> as Connection>::establish(&url)
                    .map_err(|e| e.to_string())?;
            apply_pg(&mut conn, direction).map_err(|e| e.to_string())
        } else {
            let mut conn =
                SqliteConnection::establish(sqlite_path(&url)).map_err(|e| e.to_string())?;
            // Another process (or an earlier engine in this one) may hold the file.
            diesel::connection::SimpleConnection::batch_execute(
                &mut conn,
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;",
            )
            .map_err(|e| e.to_string())?;
            apply_sqlite(&mut conn, direction).map_err(|e| e.to_string())
        }
    };
    tokio::task::spawn_blocking(run)
        .await
        .map_err(|e| StoreError::Migration(e.to_string()))?
        .map_err(StoreError::Migration)
}

type MigrationResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn apply_pg(
    conn: &mut diesel_async::async_connection_wrapper::AsyncConnectionWrapper<AsyncPgConnection>,
    direction: Direction,
) -> MigrationResult {
    match direction {
        Direction::Up => conn.run_pending_migrations(PG_MIGRATIONS).map(|_| ()),
        Direction::Down => conn.revert_all_migrations(PG_MIGRATIONS).map(|_| ()),
    }
}

fn apply_sqlite(conn: &mut SqliteConnection, direction: Direction) -> MigrationResult {
    match direction {
        Direction::Up => conn.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        Direction::Down => conn.revert_all_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    }
}

/// Current time as stored: UTC without zone.
pub(crate) fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// A stored UTC time as RFC 3339.
pub fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
