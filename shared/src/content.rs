//! Content: assets (images and videos, each with its versions) and the uploads
//! that bring them in over tus 1.0 (`/api/v1/uploads`).

use crate::ids::AssetId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of content an asset version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A still image (PNG, JPEG, GIF, WebP).
    Image,
    /// A video.
    Video,
}

/// Where a version stands in review: only `approved` content plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Waiting for an approver.
    Pending,
    /// May be played and scheduled.
    Approved,
    /// Refused, with a reason.
    Rejected,
}

/// One version of an asset: the bytes as uploaded, described.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetVersion {
    /// 1 for the first upload, then one more for each.
    pub version: u32,
    /// Image or video.
    pub kind: MediaKind,
    /// The type read from the bytes (`image/png`, ...), whatever the upload said.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// Length of a video in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Frames per second of a video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// Review status.
    pub status: ReviewStatus,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who approved or rejected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

/// An asset: a name and its versions, newest last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Asset {
    /// Its id.
    pub id: AssetId,
    /// Its name, from the first upload's `name` (or `filename`) metadata.
    pub name: String,
    /// The newest approved version: what a scene that does not pin one plays.
    #[serde(default)]
    pub live_version: Option<u32>,
    /// Every version, oldest first.
    pub versions: Vec<AssetVersion>,
    /// When the first version came.
    pub created_at: DateTime<Utc>,
}

/// An upload, as `GET /api/v1/uploads/{id}` tells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Upload {
    /// Its id, as in its URL.
    pub id: String,
    /// Bytes it will have.
    pub length: u64,
    /// Bytes received and kept.
    pub offset: u64,
    /// When it is removed if it is not complete by then (`Upload-Expires`).
    pub expires_at: DateTime<Utc>,
    /// The asset it became, once complete.
    pub asset: Option<AssetId>,
    /// The version of that asset it became.
    pub version: Option<u32>,
}

/// Which version a review step is about (`POST /assets/{id}/approve`,
/// `/rollback`); the newest pending one to approve, the approved one before the
/// live one to roll back to, when none is named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VersionChoice {
    /// The version.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 4_294_967_295_u64))]
    pub version: Option<u32>,
}

/// A rejection (`POST /assets/{id}/reject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// Why, for the uploader (1-500 characters).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub reason: String,
    /// The version; the newest pending one when none is named.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 4_294_967_295_u64))]
    pub version: Option<u32>,
}
