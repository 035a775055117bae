//! Content: assets (images and videos with their versions) and the resumable
//! uploads that bring them in.
//!
//! Layout:
//! - `sniff`: what a file is from its first bytes, and the size an image declares.
//! - `files`: the content directory (uploads in progress, assets by hash), hashing
//!   and decoding a complete file.
//! - `uploads`: an upload's life: created, written chunk by chunk straight to
//!   disk, completed into an asset version, ended, or expired.

mod files;
mod sniff;
mod uploads;

pub(crate) use files::Folders;
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
    /// The disk failed.
    #[error("content storage failed: {0}")]
    Io(#[from] std::io::Error),
}
