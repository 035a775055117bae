//! Roles, users and login.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

/// What a user may do. The permission table lives in the API's `auth` module and in
/// the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Users and system settings, and everything else.
    Admin,
    /// Live control: scenes on canvases, masters, blackout, emergency.
    Operator,
    /// Scenes and content; canvases read-only.
    Marketing,
    /// Signs up on their own; books sessions and takes part in session rooms.
    Attendee,
}

impl Role {
    /// The role as written on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Marketing => "marketing",
            Role::Attendee => "attendee",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            "marketing" => Ok(Role::Marketing),
            "attendee" => Ok(Role::Attendee),
            other => Err(format!("unknown role {other:?}")),
        }
    }
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// User name.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub username: String,
    /// Password.
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 256))]
    pub password: String,
}

/// Answer to a successful login.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token (JWT).
    pub token: String,
    /// When the token expires, RFC 3339.
    pub expires_at: String,
    /// The user's role.
    pub role: Role,
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// User name: 1-64 characters of letters, digits, `.`, `-`, `_`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub username: String,
    /// Password: at least 8 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 256))]
    pub password: String,
    /// Role.
    pub role: Role,
}

/// Body of `PATCH /api/v1/users/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// New password.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 256))]
    pub password: Option<String>,
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// Whether the user may approve content (admins always may).
    #[serde(default)]
    pub approver: Option<bool>,
}

/// A user as the API returns it (never the password hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Database id.
    pub id: UserId,
    /// User name.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub username: String,
    /// Role.
    pub role: Role,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// May approve content without being an admin.
    #[serde(default)]
    pub approver: bool,
}
