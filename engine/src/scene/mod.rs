//! Scenes: documents from files and JSON bodies, and the parsed scenes kept in
//! memory.
//!
//! - `file.rs`: scene files in `scenes/` (TOML with a format version), JSON
//!   bodies, and the errors that name file, line and column.
//! - `library.rs`: parsed scenes by name, for triggering without a database trip.

pub mod file;
pub mod library;
