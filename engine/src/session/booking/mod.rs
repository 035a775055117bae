//! Booking: each session's ledger and waitlist (plain Rust), the batch that stores
//! a group of its commands in one transaction, the actor that owns it, and
//! `peers`, which sends a session's requests to the one node running its ledger.
//! [`crate::session::directory`] starts, supervises and stops the actors.

pub mod actor;
pub mod batch;
pub mod ledger;
pub mod peers;
pub mod waitlist;

pub use actor::{GetReply, LedgerActor, Question, Reply, Submit};
pub use batch::Keyed;
pub use ledger::{Answer, Command, LedgerRefusal, Outcome};
