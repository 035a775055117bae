//! Where a test runs: a fresh database (SQLite in a temporary directory, or a
//! fresh PostgreSQL database when `LIMELIGHT_TEST_POSTGRES` names a server), the
//! test secrets, and the repository's scene files.

use anyhow::{Context, Result};
use limelight_api::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::SystemTime;

/// The first admin's password in tests.
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// The token-signing secret in tests.
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

/// Where a test's data lives; kept for a restart on the same database.
#[derive(Debug)]
pub struct TestEnv {
    /// Temporary directory (data dir, SQLite file).
    pub dir: tempfile::TempDir,
    /// Database URL.
    pub database_url: String,
}

impl TestEnv {
    /// A fresh database of the backend under test.
    pub async fn new() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let database_url = match std::env::var("LIMELIGHT_TEST_POSTGRES") {
            Ok(server) => fresh_postgres(&server).await?,
            Err(_) => format!("sqlite://{}", dir.path().join("test.db").display()),
        };
        Ok(Self { dir, database_url })
    }

    /// Run `sql` on this environment's PostgreSQL database (to cut a node's
    /// connection, say).
    pub async fn postgres_execute(&self, sql: &str) -> Result<()> {
        use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
        anyhow::ensure!(
            self.database_url.starts_with("postgres"),
            "not a PostgreSQL environment"
        );
        let mut conn = AsyncPgConnection::establish(&self.database_url).await?;
        conn.batch_execute(sql).await?;
        Ok(())
    }

    /// The configuration of a test server on this database.
    pub fn config(&self) -> Config {
        let mut config = Config::load(None, Vec::new()).unwrap_or_default();
        config.http_addr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.data_dir = self.dir.path().to_owned();
        config.database_url = Some(self.database_url.clone());
        config.admin_password = Some(ADMIN_PASSWORD.to_owned().into());
        config.jwt_secret = Some(JWT_SECRET.to_owned().into());
        config.scenes_dir = scenes_dir();
        config.seed_demo_venue = false;
        config.http_workers = Some(2);
        // Tests make many requests as one user; the limits' own tests set them.
        config.rate_limit_per_minute = 0;
        config.ws_rate_limit_per_minute = 0;
        config.login_rate_limit_per_minute = 0;
        // Loopback only, whatever a canvas is configured with.
        config.sacn.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        config.sacn.multicast_interface = Some(std::net::Ipv4Addr::LOCALHOST);
        config.sacn.multicast_ttl = 0;
        config
    }
}

/// The repository's `scenes/`.
pub fn scenes_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenes")
}

async fn fresh_postgres(server: &str) -> Result<String> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let server = server.trim_end_matches('/');
    let name = format!("ll_test_{}", unique());
    let mut conn = AsyncPgConnection::establish(&format!("{server}/postgres"))
        .await
        .context("cannot reach the test PostgreSQL")?;
    conn.batch_execute(&format!("CREATE DATABASE {name}"))
        .await?;
    Ok(format!("{server}/{name}"))
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A short string unlikely to repeat within a test run.
pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{nanos:x}{}", N.fetch_add(1, Ordering::Relaxed))
}
