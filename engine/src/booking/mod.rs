//! Booking: each session's ledger (plain Rust), the batch that stores a group of
//! its commands in one transaction, the actor that owns it, and the directory that
//! starts, supervises and stops the actors.

pub mod actor;
pub mod batch;
pub mod directory;
pub mod ledger;

pub use actor::{Ask, LedgerActor, Question, Reload, Reply, Submit};
pub use batch::Keyed;
pub use directory::{LedgerOf, ReloadLedgers, RunningLedger, SessionDirectory};
pub use ledger::{Answer, Command, Ledger, Refusal, Terms};
