//! Booking: each session's ledger and waitlist (plain Rust), the batch that stores
//! a group of its commands in one transaction, and the actor that owns it.
//! [`crate::session::directory`] starts, supervises and stops the actors.

pub mod actor;
pub mod batch;
pub mod ledger;
pub mod waitlist;

pub use actor::{GetReply, LedgerActor, Question, Reply, Submit};
pub use batch::Keyed;
pub use ledger::{Answer, Command, LedgerRefusal, Outcome};
