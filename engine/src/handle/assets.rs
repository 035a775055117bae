//! Content: uploads (tus) and the assets they become.

use super::*;
use crate::content::{ContentError, UploadMeta, UploadStatus, UploadWriter};
use crate::store::{AssetRecord, Decision, Reviewed, VersionRecord};
use limelight_shared::content::{Asset, AssetVersion, MediaKind, ReviewStatus};
use limelight_shared::ids::AssetId;
use limelight_shared::scene::{Effect, SceneSpec};

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

    /// The request writing an upload is done (or its connection dropped): what
    /// came is kept, and a complete upload becomes a version, announced to staff
    /// and audited.
    pub async fn finish_upload(
        &self,
        who: &Principal,
        writer: UploadWriter,
    ) -> Result<UploadStatus, EngineError> {
        let status = writer.finish().await?;
        if let (Some(id), Some(version)) = (status.upload.asset, status.upload.version) {
            let asset = self.asset(id).await?;
            let _ = self.inner.events.send(EngineEvent::AssetChanged {
                id,
                asset: Some(asset),
            });
            let detail = serde_json::json!({"version": version, "upload": status.upload.id});
            self.audit(
                who,
                "upload_asset",
                &format!("asset {id}"),
                &detail.to_string(),
                None,
            )
            .await;
        }
        Ok(status)
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

    /// A version of an asset (the newest when none is named) fitted inside
    /// `size` x `size` pixels, over black: width, height and RGB rows. Decoded on
    /// the blocking pool.
    pub async fn asset_thumbnail(
        &self,
        id: AssetId,
        version: Option<u32>,
        size: u32,
    ) -> Result<(u32, u32, Vec<u8>), EngineError> {
        let (_, versions) = self
            .inner
            .store
            .asset(id.0)
            .await?
            .ok_or(ContentError::UnknownAsset(id))?;
        let chosen = match version {
            Some(n) => versions
                .iter()
                .find(|v| i64::from(v.version) == i64::from(n)),
            None => versions.iter().max_by_key(|v| v.version),
        }
        .ok_or(ContentError::UnknownAsset(id))?;
        if chosen.kind != "image" {
            return Err(ContentError::InvalidMedia(format!(
                "version {} of asset {id} is a {}: only images have thumbnails",
                chosen.version, chosen.kind
            ))
            .into());
        }
        let sha256: Arc<str> = Arc::from(chosen.sha256.as_str());
        let pictures = self.inner.pictures.clone();
        let scaled = tokio::task::spawn_blocking(move || pictures.thumbnail(&sha256, size))
            .await
            .map_err(|e| EngineError::internal("making a thumbnail", e))?
            .map_err(|why| EngineError::broken(format!("a thumbnail of asset {id}: {why}")))?;
        let rgb = scaled
            .rgb
            .iter()
            .zip(&scaled.alpha)
            .flat_map(|(p, a)| p.map(|c| (c * a * 255.0 + 0.5) as u8))
            .collect();
        Ok((scaled.width, scaled.height, rgb))
    }

    /// Approve `version` of an asset (the newest pending one when none is named).
    pub async fn approve_asset(
        &self,
        who: &Principal,
        id: AssetId,
        version: Option<u32>,
    ) -> Result<Asset, EngineError> {
        self.review(
            who,
            id,
            "approve_asset",
            version,
            Review::Decide(Decision::Approve),
        )
        .await
    }

    /// Reject `version` of an asset (the newest pending one when none is named),
    /// saying why.
    pub async fn reject_asset(
        &self,
        who: &Principal,
        id: AssetId,
        version: Option<u32>,
        reason: &str,
    ) -> Result<Asset, EngineError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(EngineError::invalid(
                "a rejection needs a reason of 1-500 characters",
            ));
        }
        let decision = Review::Decide(Decision::Reject(reason.to_owned()));
        self.review(who, id, "reject_asset", version, decision)
            .await
    }

    /// Make `version` (or the approved version before the live one) live again.
    pub async fn roll_back_asset(
        &self,
        who: &Principal,
        id: AssetId,
        version: Option<u32>,
    ) -> Result<Asset, EngineError> {
        self.review(who, id, "roll_back_asset", version, Review::RollBack)
            .await
    }

    async fn review(
        &self,
        who: &Principal,
        id: AssetId,
        action: &str,
        version: Option<u32>,
        step: Review,
    ) -> Result<Asset, EngineError> {
        let work = async {
            let version = version.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
            let store = &self.inner.store;
            let done = match &step {
                Review::Decide(decision) => {
                    let at = chrono::Utc::now().naive_utc();
                    store
                        .decide_version(id.0, version, decision, who.id.0, at)
                        .await?
                }
                Review::RollBack => store.roll_back(id.0, version).await?,
            };
            match done {
                Reviewed::Done(_) => {}
                Reviewed::Unknown => return Err(ContentError::UnknownAsset(id).into()),
                Reviewed::Nothing(why) => return Err(ContentError::NothingToReview(why).into()),
            }
            crate::content::refresh(store, &self.inner.pictures, id).await?;
            let asset = self.asset(id).await?;
            let _ = self.inner.events.send(EngineEvent::AssetChanged {
                id,
                asset: Some(asset.clone()),
            });
            Ok(asset)
        };
        let result = work.await;
        let detail = serde_json::json!({"version": version, "step": step.detail()}).to_string();
        let error = result.as_ref().err();
        self.audit(who, action, &format!("asset {id}"), &detail, error)
            .await;
        result
    }

    /// Remove an asset and its files, unless a scene plays it or a template's
    /// default names it.
    pub async fn delete_asset(&self, who: &Principal, id: AssetId) -> Result<(), EngineError> {
        let work = async {
            for scene in self.list_scenes().await?.iter() {
                if uses_asset(&scene.spec, id) {
                    return Err(ContentError::InUse(
                        format!("scene {:?}", scene.spec.name.as_str()),
                        id,
                    )
                    .into());
                }
            }
            for template in self.list_templates().await? {
                if template.spec.default_assets().any(|a| a == id) {
                    return Err(ContentError::InUse(
                        format!("template {:?}", template.spec.name.as_str()),
                        id,
                    )
                    .into());
                }
            }
            let freed = self
                .inner
                .store
                .delete_asset(id.0)
                .await?
                .ok_or(ContentError::UnknownAsset(id))?;
            crate::content::refresh(&self.inner.store, &self.inner.pictures, id).await?;
            self.inner.uploads.remove_files(&freed).await;
            let _ = self
                .inner
                .events
                .send(EngineEvent::AssetChanged { id, asset: None });
            Ok(())
        };
        let result = work.await;
        self.audit(
            who,
            "delete_asset",
            &format!("asset {id}"),
            "{}",
            result.as_ref().err(),
        )
        .await;
        result
    }

    /// Refuse a scene that would play content not approved, or content its
    /// layer cannot show (a video in an image layer, say).
    pub(super) fn check_playable(&self, scene: &SceneSpec) -> Result<(), EngineError> {
        let name = scene.name.as_str();
        for layer in scene.layers.as_slice() {
            let (asset, version, wanted) = match &layer.effect {
                Effect::Image { asset, version, .. } => (asset, version, MediaKind::Image),
                Effect::Video { asset, version, .. } => (asset, version, MediaKind::Video),
                _ => continue,
            };
            if wanted == MediaKind::Video && !cfg!(feature = "media") {
                return Err(EngineError::invalid(format!(
                    "scene {name:?}: video layers need Limelight built with the media feature"
                )));
            }
            let chosen = self
                .inner
                .pictures
                .playable(*asset, *version, false)
                .map_err(|why| ContentError::NotApproved(format!("scene {name:?}: {why}")))?;
            if chosen.kind != wanted {
                let (is, layer) = match chosen.kind {
                    MediaKind::Image => ("an image", "a video"),
                    MediaKind::Video => ("a video", "an image"),
                };
                return Err(EngineError::invalid(format!(
                    "scene {name:?}: asset {asset} is {is}, which {layer} layer cannot show"
                )));
            }
        }
        Ok(())
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

/// A review step.
enum Review {
    Decide(Decision),
    RollBack,
}

impl Review {
    fn detail(&self) -> String {
        match self {
            Review::Decide(Decision::Approve) => "approve".into(),
            Review::Decide(Decision::Reject(why)) => format!("reject: {why}"),
            Review::RollBack => "roll back".into(),
        }
    }
}

/// Whether `scene` shows `asset`.
fn uses_asset(scene: &SceneSpec, asset: AssetId) -> bool {
    scene
        .layers
        .as_slice()
        .iter()
        .any(|l| matches!(&l.effect, Effect::Image { asset: a, .. } | Effect::Video { asset: a, .. } if *a == asset))
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
        live_version: a.live_version.and_then(|v| u32::try_from(v).ok()),
        versions,
        created_at: utc(a.created_at),
    }
}

fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc)
}
