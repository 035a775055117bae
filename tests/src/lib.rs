//! Helpers for end-to-end tests: a real Limelight on port 0 with a fresh database,
//! an HTTP client, and a UDP socket that decodes the E1.31 it receives.
//!
//! The database is SQLite in a temporary directory, or a fresh PostgreSQL database
//! when `LIMELIGHT_TEST_POSTGRES` holds a server URL (CI runs the suite both ways).
//!
//! One module per kind of helper: `env` (databases and secrets), `server` (a
//! running Limelight), `client` (HTTP calls), `receiver` (an E1.31 receiver), `ws`
//! (console WebSockets), `metrics` (reading `/metrics` as deltas), `process`
//! (Limelight as a child process).

mod client;
mod env;
mod metrics;
pub mod process;
mod receiver;
mod server;
mod ws;

pub use client::*;
pub use env::*;
pub use metrics::metric;
pub use receiver::*;
pub use server::*;
pub use ws::*;
