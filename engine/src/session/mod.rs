//! Sessions at run time: each session's booking ledger (with its waitlist) and
//! its live room, and the directory that starts them on demand.
//!
//! - `directory.rs`: `SessionDirectory`, which starts, supervises and lets go of
//!   each session's ledger and room actors.
//! - `booking/`: the ledger and waitlist (plain Rust), their batched transactions
//!   and the actor that owns them.
//! - `room/`: chat, polls, Q&A and presence (plain state, actor, relay, storage).

pub mod booking;
pub mod directory;
pub mod room;
