//! Accounts: password hashing and the principals that tokens stand for.
//!
//! - [`passwords`]: argon2id hashing and the rules for names and passwords.
//! - [`permissions`]: the permission table, and who is staff.
//! - [`principals`]: who a user id is, answered from memory and forgotten the moment
//!   the user changes.
//! - [`revoked`]: the tokens ended by logging out.

pub(crate) mod passwords;
mod permissions;
mod principals;
mod revoked;

pub use permissions::Permission;
pub use principals::Principal;
pub(crate) use principals::Principals;
pub(crate) use revoked::RevokedTokens;

use limelight_shared::ids::UserId;

/// Why an accounts call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// No user with that id.
    #[error("no user with id {0}")]
    UnknownUser(UserId),
    /// Wrong user name or password.
    #[error("wrong user name or password")]
    BadCredentials,
    /// The change would leave the venue without an admin.
    #[error("the last admin cannot be removed or demoted")]
    LastAdmin,
    /// The caller's role may not do this.
    #[error("only staff may {0}")]
    StaffOnly(&'static str),
}
