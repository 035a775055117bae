//! A real Limelight in this process on port 0, with a client for it.

use crate::*;
use anyhow::Result;
use limelight_api::Server;
use limelight_api::config::Config;
use limelight_engine::EngineConfig;
use std::sync::Arc;

/// A running server in this process and a client for it (the client's calls are
/// reached through `Deref`).
#[derive(Debug)]
pub struct TestApp {
    /// The server.
    pub server: Server,
    /// A client for it.
    pub client: Client,
    /// The environment it runs in.
    pub env: TestEnv,
}

impl std::ops::Deref for TestApp {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl TestApp {
    /// A server on a fresh database.
    pub async fn spawn() -> Result<Self> {
        Self::spawn_in(TestEnv::new().await?).await
    }

    /// A server on an existing environment (e.g. to restart on the same database).
    pub async fn spawn_in(env: TestEnv) -> Result<Self> {
        let config = env.config();
        Self::spawn_with(env, config).await
    }

    /// A server on `env` with a configuration derived from `env.config()`.
    pub async fn spawn_with(env: TestEnv, config: Config) -> Result<Self> {
        let engine = config.engine();
        Self::spawn_engine(env, config, engine).await
    }

    /// A server on a fresh database whose engine runs on manual time (see
    /// [`ManualTime`]): every timer of the engine (frame wake-ups, the scheduler,
    /// hold and offer expiry, room ticks, output keep-alives) waits until the test
    /// moves the time it is given. Civil time starts at the real time of the start.
    pub async fn spawn_on_manual_time() -> Result<(Self, ManualTime)> {
        let env = TestEnv::new().await?;
        let config = env.config();
        let mut engine = config.engine();
        let time = ManualTime::new(chrono::Utc::now());
        engine.clock = Arc::new(time.clock());
        engine.wall_clock = Arc::new(time.wall_clock());
        Ok((Self::spawn_engine(env, config, engine).await?, time))
    }

    /// A server whose engine has its own configuration (a wall clock a test moves).
    pub async fn spawn_engine(env: TestEnv, config: Config, engine: EngineConfig) -> Result<Self> {
        let server = Server::start_with(config, engine).await?;
        let client = Client::new(server.addr());
        Ok(Self {
            server,
            client,
            env,
        })
    }

    /// Stop the server; the environment is kept for another start.
    pub async fn stop(self) -> TestEnv {
        self.server.stop().await;
        self.env
    }
}
