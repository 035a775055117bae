//! Limelight as a separate operating-system process, for what an in-process server
//! cannot show: two servers on one database, and a server killed with SIGKILL.
//!
//! The binary is the test package's `limelight-server` (the same command line as
//! `limelight`); a test passes `env!("CARGO_BIN_EXE_limelight-server")`.

use crate::{ADMIN_PASSWORD, Client, JWT_SECRET, TestEnv, scenes_dir};
use anyhow::{Context, Result, anyhow};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A `limelight serve` child process on a test environment's database.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// A client for it.
    pub client: Client,
}

impl std::ops::Deref for ServerProcess {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// What the command line prints once it listens.
const LISTENING: &str = "Limelight listening on http://";

impl ServerProcess {
    /// Start `binary` on `env`'s database and data directory, configured only through
    /// `LIMELIGHT_*` variables as an operator would, and wait until it listens.
    pub async fn start(binary: &str, env: &TestEnv) -> Result<Self> {
        Self::start_with(binary, env, &[]).await
    }

    /// [`ServerProcess::start`] with `settings` (`LIMELIGHT_*` name and value) on
    /// top, e.g. `("LIMELIGHT_SEED_DEMO_VENUE", "true")` for the demo venue.
    pub async fn start_with(
        binary: &str,
        env: &TestEnv,
        settings: &[(&str, &str)],
    ) -> Result<Self> {
        let dir = env.dir.path();
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .current_dir(dir)
            .env_clear()
            .env("LIMELIGHT_LOG", "warn")
            .env("LIMELIGHT_HTTP_ADDR", "127.0.0.1:0")
            .env("LIMELIGHT_DATA_DIR", dir)
            .env("LIMELIGHT_DATABASE_URL", &env.database_url)
            .env("LIMELIGHT_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("LIMELIGHT_JWT_SECRET", JWT_SECRET)
            .env("LIMELIGHT_SCENES_DIR", scenes_dir())
            .env("LIMELIGHT_SEED_DEMO_VENUE", "false")
            .env("LIMELIGHT_HTTP_WORKERS", "2")
            .env("LIMELIGHT_SACN_BIND", "127.0.0.1:0")
            .env("LIMELIGHT_SACN_MULTICAST_INTERFACE", "127.0.0.1")
            .env("LIMELIGHT_SACN_MULTICAST_TTL", "0")
            // Load tests make many requests as one user; a test of the limits
            // sets its own.
            .env("LIMELIGHT_RATE_LIMIT_PER_MINUTE", "0")
            .env("LIMELIGHT_WS_RATE_LIMIT_PER_MINUTE", "0")
            .env("LIMELIGHT_LOGIN_RATE_LIMIT_PER_MINUTE", "0")
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {binary}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = line.strip_prefix(LISTENING) {
                    return Ok(addr.parse::<SocketAddr>()?);
                }
            }
            Err(anyhow!("{binary} exited before it listened"))
        })
        .await
        .context("the server process did not start in time")??;
        // Keep reading, so the child never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[limelight-server] {line}");
            }
        });
        Ok(Self {
            child,
            client: Client::new(addr),
        })
    }

    /// The process id, for reading its CPU time from `/proc`.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGKILL: the process gets no chance to finish anything it was doing.
    pub async fn kill(mut self) -> Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }
}
