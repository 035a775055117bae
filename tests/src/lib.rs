//! Helpers for end-to-end tests: a real Limelight on port 0 with a fresh database,
//! an HTTP client, and a UDP socket that decodes the E1.31 it receives.
//!
//! The database is SQLite in a temporary directory, or a fresh PostgreSQL database
//! when `LIMELIGHT_TEST_POSTGRES` holds a server URL (CI runs the suite both ways).
//!
//! One module per kind of helper: `env` (databases and secrets), `server` (a
//! running Limelight), `client` (HTTP calls), `receiver` (an E1.31 receiver), `ws`
//! (console WebSockets), `metrics` (reading `/metrics` as deltas), `time` (manual
//! time), `process` (Limelight as a child process), `tus` (a raw tus 1.0 client,
//! images made to order), `media` (test videos GStreamer makes), `mqtt` (a mosquitto broker
//! and `mosquitto_pub`), `redis` (a redis-server), `tls` (certificates made for a test).
//!
//! # Manual time
//! Tests of timing the engine decides (cue waits and follows, fades, scheduled
//! changes and overrides running out, hold and offer expiry) start the server with
//! [`TestApp::spawn_on_manual_time`] and move its clocks themselves with
//! [`ManualTime`]: exact to the frame, and as fast as the machine. Room ticks,
//! sweeps and chat rate limits are tested the same way in the engine's own tests.
//! Where a test waits, it waits for something to arrive (a packet, a console
//! event) under a deadline that only bounds a failure; no test sleeps to let time
//! pass.
//!
//! # Real time, on purpose
//! A few tests measure the product's timing promise on the wire and so run on real
//! time with real UDP: the frame-rate, sequence, restart and sync tests in
//! `tests/output.rs`, `a_scheduled_entry_reaches_the_wire_within_one_frame_of_its_due_time`
//! and `a_wall_clock_jump_takes_up_what_plays_at_the_new_time` in `tests/schedule.rs`,
//! and `go_protection_and_an_auto_follow_chain_show_on_the_wire_and_every_console` in
//! `tests/cues.rs`. The end-to-end tests that start or restart servers as a user
//! would (bookings under load, restarts and SIGKILL) run on real time too, with the
//! same kind of waits.

pub mod bench;
mod client;
mod daemon;
mod env;
mod media;
mod metrics;
mod mqtt;
pub mod process;
mod receiver;
mod redis;
mod server;
mod time;
mod tls;
mod tus;
mod ws;

pub use client::*;
pub use env::*;
pub use media::test_video;
pub use metrics::metric;
pub use mqtt::Broker;
pub use receiver::*;
pub use redis::RedisServer;
pub use server::*;
pub use time::ManualTime;
pub use tls::TestPki;
pub use tus::*;
pub use ws::*;
