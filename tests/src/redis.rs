//! A real Redis for a test: Debian's `redis-server` on a loopback port of its
//! own, without persistence, stopped when dropped.

use anyhow::{Context, Result};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

/// A redis-server on 127.0.0.1.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Start one on a free loopback port; returns once it takes connections.
    pub fn start() -> Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = Self { port, child: None };
        server.restart()?;
        Ok(server)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stop it (SIGKILL).
    pub fn stop(&mut self) -> Result<()> {
        crate::daemon::kill(&mut self.child)
    }

    /// Start it again on the same port, empty.
    pub fn restart(&mut self) -> Result<()> {
        self.stop()?;
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting redis-server (Debian's package `redis-server`)")?;
        self.child = Some(child);
        crate::daemon::wait_listening("redis-server", &[self.port])
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
