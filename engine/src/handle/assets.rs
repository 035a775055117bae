//! Content: uploads (tus) and the assets they become.

use super::*;
use crate::content::{ContentError, UploadMeta, UploadStatus, UploadWriter};
use crate::store::{AssetRecord, VersionRecord};
use limelight_shared::content::{Asset, AssetVersion, MediaKind, ReviewStatus};
use limelight_shared::ids::AssetId;

impl EngineHandle {
    /// The largest upload taken, in bytes (`Tus-Max-Size`).
    pub fn max_upload(&self) -> u64 {
        self.inner.uploads.max()
    }

    /// A new upload of `length` bytes by `who`.
    pub async fn create_upload(
        &self,
        who: &Principal,
        length: u64,
        meta: UploadMeta,
    ) -> Result<UploadStatus, EngineError> {
        let row = self.inner.uploads.create(who, length, meta).await?;
        Ok(UploadStatus::of(&row))
    }

    /// Upload `id`, for its owner or an admin.
    pub async fn upload(&self, who: &Principal, id: &str) -> Result<UploadStatus, EngineError> {
        Ok(UploadStatus::of(&self.inner.uploads.get(who, id).await?))
    }

    /// Start writing upload `id` at `offset`; `checksum` is the chunk's SHA-256
    /// when the client sent one.
    pub async fn write_upload(
        &self,
        who: &Principal,
        id: &str,
        offset: u64,
        checksum: Option<[u8; 32]>,
    ) -> Result<UploadWriter, EngineError> {
        self.inner.uploads.open(who, id, offset, checksum).await
    }

    /// End upload `id` and remove its bytes.
    pub async fn terminate_upload(&self, who: &Principal, id: &str) -> Result<(), EngineError> {
        self.inner.uploads.terminate(who, id).await
    }

    /// Remove expired uploads; how many files went.
    pub async fn sweep_uploads(&self) -> Result<usize, EngineError> {
        self.inner.uploads.sweep().await
    }

    /// Every asset with its versions.
    pub async fn list_assets(&self) -> Result<Vec<Asset>, EngineError> {
        let names = self.usernames().await?;
        Ok(self
            .inner
            .store
            .list_assets()
            .await?
            .iter()
            .map(|(a, v)| asset_dto(a, v, &names))
            .collect())
    }

    /// One asset with its versions.
    pub async fn asset(&self, id: AssetId) -> Result<Asset, EngineError> {
        let names = self.usernames().await?;
        let (a, v) = self
            .inner
            .store
            .asset(id.0)
            .await?
            .ok_or(ContentError::UnknownAsset(id))?;
        Ok(asset_dto(&a, &v, &names))
    }

    async fn usernames(&self) -> Result<HashMap<i64, String>, EngineError> {
        Ok(self
            .inner
            .store
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.id, u.username))
            .collect())
    }
}

fn asset_dto(a: &AssetRecord, versions: &[VersionRecord], names: &HashMap<i64, String>) -> Asset {
    let name = |id: i64| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("user {id}"))
    };
    let versions: Vec<AssetVersion> = versions
        .iter()
        .map(|v| AssetVersion {
            version: u32::try_from(v.version).unwrap_or(0),
            kind: if v.kind == "video" {
                MediaKind::Video
            } else {
                MediaKind::Image
            },
            media_type: v.media_type.clone(),
            size: u64::try_from(v.size).unwrap_or(0),
            sha256: v.sha256.clone(),
            width: u32::try_from(v.width).unwrap_or(0),
            height: u32::try_from(v.height).unwrap_or(0),
            duration_ms: v.duration_ms.and_then(|d| u64::try_from(d).ok()),
            fps: v.fps,
            uploaded_by: name(v.uploaded_by),
            uploaded_at: utc(v.uploaded_at),
            status: match v.status.as_str() {
                "approved" => ReviewStatus::Approved,
                "rejected" => ReviewStatus::Rejected,
                _ => ReviewStatus::Pending,
            },
            reason: v.reason.clone(),
            decided_by: v.decided_by.map(name),
        })
        .collect();
    Asset {
        id: AssetId(a.id),
        name: a.name.clone(),
        live_version: versions
            .iter()
            .rev()
            .find(|v| v.status == ReviewStatus::Approved)
            .map(|v| v.version),
        versions,
        created_at: utc(a.created_at),
    }
}

fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc)
}
