//! Accounts: password hashing and the principals that tokens stand for.
//!
//! - [`passwords`]: argon2id hashing and the rules for names and passwords.
//! - [`permissions`]: the permission table, and who is staff.
//! - [`principals`]: who a user id is, answered from memory and forgotten the moment
//!   the user changes.

pub(crate) mod passwords;
mod permissions;
mod principals;

pub use permissions::Permission;
pub use principals::Principal;
pub(crate) use principals::Principals;
