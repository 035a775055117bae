//! An upload's life. It is created with its length; chunks are written straight
//! to its file as they arrive and acknowledged once synced (`received` in its row),
//! so a dropped connection or a restart loses nothing acknowledged; when the last
//! byte is in, the file is read through, and if it is a whole image it becomes a
//! version of an asset. An upload not complete by its `expires_at` is removed; its
//! row stays a week as a tombstone, so a client that comes back hears "expired"
//! rather than "unknown".

use super::ContentError;
use super::Pictures;
use super::files::{Folders, ProbeError, probe};
use super::sniff::{Refused, SNIFF_LEN, sniff};
use crate::accounts::Principal;
use crate::clock::WallClock;
use crate::published::EngineEvent;
use crate::store::{NewVersion, Store, UploadRecord};
use chrono::{DateTime, Utc};
use limelight_shared::content::{MediaKind, Upload};
use limelight_shared::ids::AssetId;
use limelight_shared::users::Role;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio::sync::broadcast;

/// How long an expired upload's row is kept to answer "expired".
const TOMBSTONE: chrono::TimeDelta = chrono::TimeDelta::days(7);
/// Progress events go out at most this often per upload.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What the client said about an upload (tus `Upload-Metadata`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UploadMeta {
    /// The header as sent, echoed back by `HEAD`.
    pub raw: String,
    /// The asset's name.
    pub name: Option<String>,
    /// The file's name on the uploader's machine.
    pub filename: Option<String>,
    /// The type the client declares.
    pub filetype: Option<String>,
    /// An existing asset this upload adds a version to.
    pub asset: Option<AssetId>,
}

/// Uploads: their rows, their files and who is writing which.
#[derive(Debug, Clone)]
pub(crate) struct Uploads {
    store: Store,
    folders: Folders,
    pictures: Arc<Pictures>,
    wall: Arc<dyn WallClock>,
    events: broadcast::Sender<EngineEvent>,
    /// Largest upload taken.
    max: u64,
    /// How long an upload lives after its last chunk.
    ttl: chrono::TimeDelta,
    /// Uploads a request is writing now.
    busy: Arc<Mutex<HashSet<String>>>,
}

impl Uploads {
    pub(crate) fn new(
        store: Store,
        folders: Folders,
        pictures: Arc<Pictures>,
        wall: Arc<dyn WallClock>,
        events: broadcast::Sender<EngineEvent>,
        max: u64,
        ttl: Duration,
    ) -> Self {
        Self {
            store,
            folders,
            pictures,
            wall,
            events,
            max,
            ttl: chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::days(1)),
            busy: Arc::default(),
        }
    }

    /// The largest upload taken.
    pub(crate) fn max(&self) -> u64 {
        self.max
    }

    fn expiry(&self) -> chrono::NaiveDateTime {
        (self.wall.now() + self.ttl).naive_utc()
    }

    /// A new, empty upload of `length` bytes by `who`.
    pub(crate) async fn create(
        &self,
        who: &Principal,
        length: u64,
        meta: UploadMeta,
    ) -> Result<UploadRecord, crate::EngineError> {
        if length > self.max {
            return Err(ContentError::TooLarge {
                length,
                max: self.max,
            }
            .into());
        }
        if let Some(declared) = &meta.filetype
            && !declared.starts_with("image/")
        {
            return Err(ContentError::UnsupportedType(format!(
                "files of type {declared:?} are not taken: PNG, JPEG, GIF and WebP images are"
            ))
            .into());
        }
        if let Some(asset) = meta.asset
            && self.store.asset(asset.0).await?.is_none()
        {
            return Err(ContentError::UnknownAsset(asset).into());
        }
        let now = self.wall.now().naive_utc();
        let row = UploadRecord {
            id: uuid::Uuid::new_v4().simple().to_string(),
            owner: who.id.0,
            length: i64::try_from(length).unwrap_or(i64::MAX),
            received: 0,
            metadata: meta.raw,
            target_asset: meta.asset.map(|a| a.0),
            created_at: now,
            expires_at: self.expiry(),
            asset_id: None,
            version: None,
        };
        self.store.insert_upload(&row).await?;
        tokio::fs::File::create(self.folders.upload(&row.id))
            .await
            .map_err(ContentError::Io)?;
        Ok(row)
    }

    /// Upload `id`, if `who` may see it: its owner or an admin.
    pub(crate) async fn get(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<UploadRecord, crate::EngineError> {
        let row = self
            .store
            .upload(id)
            .await?
            .filter(|r| r.owner == who.id.0 || who.role == Role::Admin)
            .ok_or_else(|| ContentError::UnknownUpload(id.to_owned()))?;
        if row.asset_id.is_none() && row.expires_at <= self.wall.now().naive_utc() {
            return Err(ContentError::UploadExpired(id.to_owned()).into());
        }
        Ok(row)
    }

    /// Start writing upload `id` at `offset`, which must be where it stands.
    /// `checksum` is the chunk's expected SHA-256, when the client sent one.
    pub(crate) async fn open(
        &self,
        who: &Principal,
        id: &str,
        offset: u64,
        checksum: Option<[u8; 32]>,
    ) -> Result<UploadWriter, crate::EngineError> {
        let row = self.get(who, id).await?;
        let received = u64::try_from(row.received).unwrap_or(0);
        if offset != received {
            return Err(ContentError::OffsetMismatch {
                expected: received,
                got: offset,
            }
            .into());
        }
        let lock = Busy::take(&self.busy, id)?;
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.folders.upload(id))
            .await
            .map_err(ContentError::Io)?;
        // Bytes past the acknowledged ones may be half-written: they go.
        file.set_len(received).await.map_err(ContentError::Io)?;
        file.seek(std::io::SeekFrom::Start(received))
            .await
            .map_err(ContentError::Io)?;
        Ok(UploadWriter {
            uploads: self.clone(),
            owner: who.id.0,
            row,
            file,
            start: received,
            offset: received,
            head: Vec::new(),
            checksum: checksum.map(|c| (Sha256::new(), c)),
            last_progress: None,
            _lock: lock,
        })
    }

    /// End upload `id` and remove its bytes.
    pub(crate) async fn terminate(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<(), crate::EngineError> {
        self.get(who, id).await?;
        self.store.delete_upload(id).await?;
        remove(&self.folders.upload(id)).await?;
        Ok(())
    }

    /// Remove what has expired: incomplete uploads' files (their rows stay as
    /// tombstones for a week), finished uploads' rows, and old tombstones.
    pub(crate) async fn sweep(&self) -> Result<usize, crate::EngineError> {
        let now = self.wall.now().naive_utc();
        let mut removed = 0;
        for row in self.store.expired_uploads(now).await? {
            if self.is_busy(&row.id) {
                continue;
            }
            let path = self.folders.upload(&row.id);
            if row.asset_id.is_some() || row.expires_at + TOMBSTONE <= now {
                self.store.delete_upload(&row.id).await?;
            }
            if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                remove(&path).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// At start: remove files no row names (left by a crash between the two), and
    /// finish uploads whose every byte came but which had not become an asset yet.
    pub(crate) async fn recover(&self) -> Result<(), crate::EngineError> {
        let versions = self.store.version_hashes().await?;
        let uploads = self.store.upload_ids().await?;
        let (folders, ids) = (self.folders.clone(), uploads.clone());
        let orphans = tokio::task::spawn_blocking(move || folders.orphans(&versions, &ids))
            .await
            .map_err(|e| crate::EngineError::internal("the content sweep", e))?
            .map_err(ContentError::Io)?;
        for path in orphans {
            tracing::warn!(path = %path.display(), "removing a content file no row names");
            remove(&path).await?;
        }
        for id in uploads {
            if let Some(row) = self.store.upload(&id).await?
                && row.asset_id.is_none()
                && row.received == row.length
                && tokio::fs::try_exists(self.folders.upload(&id))
                    .await
                    .unwrap_or(false)
                && let Err(e) = self.complete(row).await
            {
                tracing::warn!(upload = %id, error = %e, "a complete upload could not become an asset");
            }
        }
        Ok(())
    }

    /// Remove the files of versions no longer stored (by hash).
    pub(crate) async fn remove_files(&self, hashes: &[String]) {
        for sha in hashes {
            if let Err(e) = remove(&self.folders.asset(sha)).await {
                tracing::warn!(sha256 = %sha, error = %e, "a removed version's file stays; the next start removes it");
            }
        }
    }

    fn is_busy(&self, id: &str) -> bool {
        self.busy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
    }

    /// Every byte of `row` is in: read it through and make it a version.
    async fn complete(&self, row: UploadRecord) -> Result<UploadRecord, crate::EngineError> {
        let path = self.folders.upload(&row.id);
        let probed = tokio::task::spawn_blocking(move || probe(&path))
            .await
            .map_err(|e| crate::EngineError::internal("reading an upload", e))?;
        let probed = match probed {
            Ok(p) => p,
            Err(ProbeError::Invalid(why)) => {
                // It can never become valid: it goes, and the client is told why.
                self.store.delete_upload(&row.id).await?;
                remove(&self.folders.upload(&row.id)).await?;
                return Err(ContentError::InvalidMedia(why).into());
            }
            Err(ProbeError::Io(e)) => return Err(ContentError::Io(e).into()),
        };
        // The bytes go under their hash first (a link: the upload keeps its own
        // name until its row says what it became), then the rows.
        let (folders, id, sha) = (self.folders.clone(), row.id.clone(), probed.sha256.clone());
        tokio::task::spawn_blocking(move || folders.link(&id, &sha))
            .await
            .map_err(|e| crate::EngineError::internal("placing an upload", e))?
            .map_err(ContentError::Io)?;
        let meta = UploadMeta::parse(&row.metadata).unwrap_or_default();
        let name = meta
            .name
            .or(meta.filename)
            .unwrap_or_else(|| format!("upload {}", &row.id[..8]));
        let version = NewVersion {
            asset_id: 0,
            version: 0,
            kind: match probed.sniffed.kind {
                MediaKind::Image => "image",
                MediaKind::Video => "video",
            }
            .to_owned(),
            media_type: probed.sniffed.media_type.to_owned(),
            size: i64::try_from(probed.size).unwrap_or(i64::MAX),
            sha256: probed.sha256,
            width: i32::try_from(probed.width).unwrap_or(i32::MAX),
            height: i32::try_from(probed.height).unwrap_or(i32::MAX),
            duration_ms: probed.duration_ms.and_then(|d| i64::try_from(d).ok()),
            fps: probed.fps,
            uploaded_by: row.owner,
            uploaded_at: self.wall.now().naive_utc(),
            status: "pending".to_owned(),
        };
        let Some((asset, number)) = self
            .store
            .complete_upload(&row.id, row.target_asset, &name, version)
            .await?
        else {
            return Err(ContentError::UnknownAsset(AssetId(row.target_asset.unwrap_or(0))).into());
        };
        remove(&self.folders.upload(&row.id)).await?;
        super::refresh(&self.store, &self.pictures, AssetId(asset)).await?;
        Ok(UploadRecord {
            received: row.length,
            asset_id: Some(asset),
            version: Some(number),
            ..row
        })
    }
}

/// A request writing an upload; only one at a time per upload.
#[derive(Debug)]
pub struct UploadWriter {
    uploads: Uploads,
    owner: i64,
    row: UploadRecord,
    file: tokio::fs::File,
    /// Where this request began.
    start: u64,
    /// Bytes written so far.
    offset: u64,
    /// The file's first bytes, while they are being gathered for sniffing.
    head: Vec<u8>,
    checksum: Option<(Sha256, [u8; 32])>,
    last_progress: Option<Instant>,
    _lock: Busy,
}

impl UploadWriter {
    /// Write the next bytes of the chunk. A refusal leaves the upload where this
    /// request found it (a wrong type ends it: no later byte can make it right).
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), crate::EngineError> {
        let length = u64::try_from(self.row.length).unwrap_or(0);
        let end = self.offset + bytes.len() as u64;
        if end > length {
            return Err(ContentError::PastTheEnd(length).into());
        }
        if self.offset < SNIFF_LEN as u64 && self.head.len() < SNIFF_LEN {
            let want = SNIFF_LEN - self.head.len();
            self.head.extend_from_slice(&bytes[..want.min(bytes.len())]);
            if self.start == 0 && (self.head.len() >= SNIFF_LEN || end == length) {
                self.check_head().await?;
            }
        }
        if let Some((hasher, _)) = &mut self.checksum {
            hasher.update(bytes);
        }
        self.file.write_all(bytes).await.map_err(ContentError::Io)?;
        self.offset = end;
        if self
            .last_progress
            .is_none_or(|at| at.elapsed() >= PROGRESS_EVERY)
        {
            self.last_progress = Some(Instant::now());
            self.progress();
        }
        Ok(())
    }

    async fn check_head(&mut self) -> Result<(), crate::EngineError> {
        let refused = match sniff(&self.head) {
            Ok(_) => return Ok(()),
            Err(e @ (Refused::UnknownType | Refused::VideoNeedsMedia)) => {
                ContentError::UnsupportedType(e.to_string())
            }
            Err(e @ Refused::TooLarge(..)) => ContentError::InvalidMedia(e.to_string()),
        };
        self.uploads.store.delete_upload(&self.row.id).await?;
        remove(&self.uploads.folders.upload(&self.row.id)).await?;
        Err(refused.into())
    }

    /// The request's bytes are all in (or its connection dropped): sync them and
    /// acknowledge them; complete the upload when it is whole.
    pub async fn finish(mut self) -> Result<UploadStatus, crate::EngineError> {
        if let Some((hasher, expected)) = self.checksum.take()
            && hasher.finalize()[..] != expected[..]
        {
            self.file
                .set_len(self.start)
                .await
                .map_err(ContentError::Io)?;
            return Err(ContentError::ChecksumMismatch.into());
        }
        self.file.sync_data().await.map_err(ContentError::Io)?;
        let received = i64::try_from(self.offset).unwrap_or(i64::MAX);
        let expires_at = self.uploads.expiry();
        self.uploads
            .store
            .set_upload_received(&self.row.id, received, expires_at)
            .await?;
        self.row.received = received;
        self.row.expires_at = expires_at;
        self.progress();
        if self.row.received == self.row.length {
            let done = self.uploads.complete(self.row.clone()).await?;
            self.row = done;
            self.progress();
        }
        Ok(UploadStatus::of(&self.row))
    }

    fn progress(&self) {
        let mut upload = wire(&self.row);
        upload.offset = self.offset;
        let _ = self.uploads.events.send(EngineEvent::UploadProgress {
            user: limelight_shared::ids::UserId(self.owner),
            upload,
        });
    }
}

/// An upload with the metadata it was created with, for tus's `HEAD`.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadStatus {
    /// Where it stands.
    pub upload: Upload,
    /// Its `Upload-Metadata` header as sent.
    pub metadata: String,
}

impl UploadStatus {
    pub(crate) fn of(row: &UploadRecord) -> Self {
        Self {
            upload: wire(row),
            metadata: row.metadata.clone(),
        }
    }
}

/// An upload as the API tells it.
fn wire(row: &UploadRecord) -> Upload {
    Upload {
        id: row.id.clone(),
        length: u64::try_from(row.length).unwrap_or(0),
        offset: u64::try_from(row.received).unwrap_or(0),
        expires_at: DateTime::<Utc>::from_naive_utc_and_offset(row.expires_at, Utc),
        asset: row.asset_id.map(AssetId),
        version: row.version.and_then(|v| u32::try_from(v).ok()),
    }
}

impl UploadMeta {
    /// Read a tus `Upload-Metadata` header: `key base64value` pairs split by
    /// commas. Keys Limelight reads: `name` (the asset's name), `filename`,
    /// `filetype`, and `asset` (the id of an asset this upload adds a version to);
    /// others are kept and ignored.
    pub fn parse(raw: &str) -> Result<Self, crate::EngineError> {
        use base64::Engine as _;
        let mut meta = UploadMeta {
            raw: raw.to_owned(),
            ..UploadMeta::default()
        };
        for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
            let value = if value.trim().is_empty() {
                String::new()
            } else {
                base64::engine::general_purpose::STANDARD
                    .decode(value.trim())
                    .ok()
                    .and_then(|v| String::from_utf8(v).ok())
                    .ok_or_else(|| {
                        crate::EngineError::invalid(format!(
                            "Upload-Metadata: the value of {key:?} is not base64 of UTF-8 text"
                        ))
                    })?
            };
            let text = || {
                Some(value.trim().chars().take(200).collect::<String>()).filter(|v| !v.is_empty())
            };
            match key {
                "name" => meta.name = text(),
                "filename" => meta.filename = text(),
                "filetype" => meta.filetype = text(),
                "asset" => {
                    let id = value.trim().parse::<i64>().map_err(|_| {
                        crate::EngineError::invalid(format!(
                            "Upload-Metadata: asset must be an asset id, got {value:?}"
                        ))
                    })?;
                    meta.asset = Some(AssetId(id));
                }
                _ => {}
            }
        }
        Ok(meta)
    }
}

async fn remove(path: &std::path::Path) -> Result<(), ContentError> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ContentError::Io(e)),
        _ => Ok(()),
    }
}

/// An upload marked as being written, until dropped.
#[derive(Debug)]
struct Busy {
    set: Arc<Mutex<HashSet<String>>>,
    id: String,
}

impl Busy {
    fn take(set: &Arc<Mutex<HashSet<String>>>, id: &str) -> Result<Self, ContentError> {
        let mut busy = set.lock().unwrap_or_else(PoisonError::into_inner);
        if !busy.insert(id.to_owned()) {
            return Err(ContentError::Busy(id.to_owned()));
        }
        Ok(Self {
            set: set.clone(),
            id: id.to_owned(),
        })
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}
