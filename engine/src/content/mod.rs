//! Content: assets (images and videos with their versions) and the resumable
//! uploads that bring them in.
//!
//! Layout:
//! - `sniff`: what a file is from its first bytes, and the size an image declares.
//! - `files`: the content directory (uploads in progress, assets by hash), hashing
//!   and decoding a complete file.
//! - `pictures`: what each asset may play, and pictures decoded and scaled for
//!   image layers on a thread of their own, ready for the frame threads.
//! - `uploads`: an upload's life: created, written chunk by chunk straight to
//!   disk, completed into an asset version, ended, or expired.

mod files;
mod pictures;
mod sniff;
mod uploads;

pub(crate) use files::Folders;
pub(crate) use pictures::{Pictures, Playable, ScaledKey, VideoKey};
#[cfg(feature = "media")]
pub(crate) use pictures::{Scaled, pixels_per_cell, scale};

use crate::store::Store;
use limelight_shared::content::{MediaKind, ReviewStatus};
use std::sync::Arc;

/// Tell `pictures` what `asset` may play now, from the store.
pub(crate) async fn refresh(
    store: &Store,
    pictures: &Pictures,
    asset: AssetId,
) -> Result<(), crate::EngineError> {
    match store.asset(asset.0).await? {
        Some((a, versions)) => pictures.set_asset(
            asset,
            a.live_version.and_then(|v| u32::try_from(v).ok()),
            Some(playable(&versions)),
        ),
        None => pictures.set_asset(asset, None, None),
    }
    Ok(())
}

/// Tell `pictures` what every asset may play, from the store.
pub(crate) async fn refresh_all(
    store: &Store,
    pictures: &Pictures,
) -> Result<(), crate::EngineError> {
    for (a, versions) in store.list_assets().await? {
        pictures.set_asset(
            AssetId(a.id),
            a.live_version.and_then(|v| u32::try_from(v).ok()),
            Some(playable(&versions)),
        );
    }
    Ok(())
}

fn playable(versions: &[crate::store::VersionRecord]) -> Vec<(u32, Playable)> {
    versions
        .iter()
        .map(|v| {
            (
                u32::try_from(v.version).unwrap_or(0),
                Playable {
                    sha256: Arc::from(v.sha256.as_str()),
                    kind: if v.kind == "video" {
                        MediaKind::Video
                    } else {
                        MediaKind::Image
                    },
                    size: [v.width, v.height].map(|n| u32::try_from(n).unwrap_or(0)),
                    status: match v.status.as_str() {
                        "approved" => ReviewStatus::Approved,
                        "rejected" => ReviewStatus::Rejected,
                        _ => ReviewStatus::Pending,
                    },
                },
            )
        })
        .collect()
}
pub(crate) use uploads::Uploads;
pub use uploads::{UploadMeta, UploadStatus, UploadWriter};

use limelight_shared::ids::AssetId;

/// Why a content call was refused; nothing changed unless it says so.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// No upload with that id (for this user).
    #[error("no upload {0}")]
    UnknownUpload(String),
    /// The upload expired and was removed.
    #[error("upload {0} expired and was removed")]
    UploadExpired(String),
    /// A chunk that does not start where the upload stands.
    #[error("the upload stands at byte {expected}; this chunk starts at {got}")]
    OffsetMismatch {
        /// Where the upload stands.
        expected: u64,
        /// Where the chunk said it starts.
        got: u64,
    },
    /// Another request is writing the upload.
    #[error("another request is writing upload {0}")]
    Busy(String),
    /// Longer than uploads may be.
    #[error("the upload is {length} bytes; at most {max} are taken")]
    TooLarge {
        /// Its declared length.
        length: u64,
        /// The limit.
        max: u64,
    },
    /// More bytes than the upload declared.
    #[error("the chunk goes past the upload's length of {0} bytes")]
    PastTheEnd(u64),
    /// Not a kind of file Limelight takes.
    #[error("{0}")]
    UnsupportedType(String),
    /// Not a whole image, or one too large.
    #[error("{0}")]
    InvalidMedia(String),
    /// The chunk's checksum does not match its bytes; the chunk was dropped.
    #[error("the chunk's sha256 checksum does not match its bytes; it was not kept")]
    ChecksumMismatch,
    /// No asset with that id.
    #[error("no asset {0}")]
    UnknownAsset(AssetId),
    /// No scene template with that id.
    #[error("no template {0}")]
    UnknownTemplate(limelight_shared::ids::TemplateId),
    /// Content that may not play (yet): pending, rejected, or no version approved.
    #[error("{0}: only approved content plays live or on a schedule")]
    NotApproved(String),
    /// No version fits the review step.
    #[error("{0}")]
    NothingToReview(&'static str),
    /// Something uses the asset.
    #[error("{0} uses asset {1}; change it first")]
    InUse(String, AssetId),
    /// The disk failed.
    #[error("content storage failed: {0}")]
    Io(#[from] std::io::Error),
}
