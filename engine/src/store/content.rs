//! Assets, their versions, and the uploads that bring them in.

use super::schema::{asset_versions, assets, uploads};
use super::{Store, StoreError, with_conn, with_read_conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use std::collections::HashSet;

/// A stored upload.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = uploads)]
pub struct UploadRecord {
    /// Its id, as in its URL.
    pub id: String,
    /// The user uploading.
    pub owner: i64,
    /// Bytes it will have.
    pub length: i64,
    /// Bytes received and synced to disk.
    pub received: i64,
    /// The tus `Upload-Metadata` header as sent.
    pub metadata: String,
    /// The asset it adds a version to.
    pub target_asset: Option<i64>,
    /// When it was created (UTC).
    pub created_at: NaiveDateTime,
    /// When it is removed unless complete (UTC).
    pub expires_at: NaiveDateTime,
    /// The asset it became.
    pub asset_id: Option<i64>,
    /// The version of that asset it became.
    pub version: Option<i32>,
}

/// A stored asset.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = assets)]
pub struct AssetRecord {
    /// Row id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Who made it.
    pub created_by: i64,
    /// When (UTC).
    pub created_at: NaiveDateTime,
}

/// A stored version of an asset.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = asset_versions)]
pub struct VersionRecord {
    /// Row id.
    pub id: i64,
    /// Its asset.
    pub asset_id: i64,
    /// 1, 2, ...
    pub version: i32,
    /// `image` or `video`.
    pub kind: String,
    /// The type read from its bytes.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256, lowercase hex: also its file's name.
    pub sha256: String,
    /// Pixels across.
    pub width: i32,
    /// Pixels down.
    pub height: i32,
    /// A video's length.
    pub duration_ms: Option<i64>,
    /// A video's frame rate.
    pub fps: Option<f64>,
    /// Who uploaded it.
    pub uploaded_by: i64,
    /// When (UTC).
    pub uploaded_at: NaiveDateTime,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// Who decided.
    pub decided_by: Option<i64>,
    /// When (UTC).
    pub decided_at: Option<NaiveDateTime>,
}

/// A version about to be stored.
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = asset_versions)]
pub struct NewVersion {
    /// Filled in by [`Store::complete_upload`].
    pub asset_id: i64,
    /// Filled in by [`Store::complete_upload`].
    pub version: i32,
    /// `image` or `video`.
    pub kind: String,
    /// The type read from its bytes.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Pixels across.
    pub width: i32,
    /// Pixels down.
    pub height: i32,
    /// A video's length.
    pub duration_ms: Option<i64>,
    /// A video's frame rate.
    pub fps: Option<f64>,
    /// Who uploaded it.
    pub uploaded_by: i64,
    /// When (UTC).
    pub uploaded_at: NaiveDateTime,
    /// `pending` when it comes.
    pub status: String,
}

impl Store {
    /// Store a new upload.
    pub async fn insert_upload(&self, row: &UploadRecord) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::insert_into(uploads::table)
                .values(row)
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// An upload by id.
    pub async fn upload(&self, id: &str) -> Result<Option<UploadRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(uploads::table
                .find(id)
                .select(UploadRecord::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// `received` bytes of upload `id` are on disk; it now expires at `expires_at`.
    pub async fn set_upload_received(
        &self,
        id: &str,
        received: i64,
        expires_at: NaiveDateTime,
    ) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::update(uploads::table.find(id))
                .set((
                    uploads::received.eq(received),
                    uploads::expires_at.eq(expires_at),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// Forget an upload; whether there was one.
    pub async fn delete_upload(&self, id: &str) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            Ok(diesel::delete(uploads::table.find(id))
                .execute(conn)
                .await?
                > 0)
        })
    }

    /// Uploads that expired before `now`.
    pub async fn expired_uploads(
        &self,
        now: NaiveDateTime,
    ) -> Result<Vec<UploadRecord>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(uploads::table
                .filter(uploads::expires_at.le(now))
                .select(UploadRecord::as_select())
                .load(conn)
                .await?)
        })
    }

    /// The ids of every stored upload.
    pub async fn upload_ids(&self) -> Result<HashSet<String>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(uploads::table
                .select(uploads::id)
                .load::<String>(conn)
                .await?
                .into_iter()
                .collect())
        })
    }

    /// The hash of every stored version.
    pub async fn version_hashes(&self) -> Result<HashSet<String>, StoreError> {
        with_read_conn!(self, |conn| {
            Ok(asset_versions::table
                .select(asset_versions::sha256)
                .load::<String>(conn)
                .await?
                .into_iter()
                .collect())
        })
    }

    /// Upload `id` became `version`: of asset `target` when given (its next
    /// version), else of a new asset named `name`. One transaction, so the upload
    /// says which asset it became exactly when that version exists. `None` when
    /// the target asset is gone.
    pub async fn complete_upload(
        &self,
        id: &str,
        target: Option<i64>,
        name: &str,
        mut version: NewVersion,
    ) -> Result<Option<(i64, i32)>, StoreError> {
        with_conn!(self, |conn| {
            conn.transaction::<_, StoreError, _>(async move |conn| {
                let asset = match target {
                    Some(asset) => {
                        let known = assets::table
                            .find(asset)
                            .select(assets::id)
                            .first::<i64>(conn)
                            .await
                            .optional()?;
                        if known.is_none() {
                            return Ok(None);
                        }
                        asset
                    }
                    None => {
                        diesel::insert_into(assets::table)
                            .values((
                                assets::name.eq(name),
                                assets::created_by.eq(version.uploaded_by),
                                assets::created_at.eq(version.uploaded_at),
                            ))
                            .returning(assets::id)
                            .get_result::<i64>(conn)
                            .await?
                    }
                };
                let last: Option<i32> = asset_versions::table
                    .filter(asset_versions::asset_id.eq(asset))
                    .select(diesel::dsl::max(asset_versions::version))
                    .first(conn)
                    .await?;
                version.asset_id = asset;
                version.version = last.unwrap_or(0) + 1;
                diesel::insert_into(asset_versions::table)
                    .values(&version)
                    .execute(conn)
                    .await?;
                diesel::update(uploads::table.find(id))
                    .set((
                        uploads::received.eq(version.size),
                        uploads::asset_id.eq(asset),
                        uploads::version.eq(version.version),
                    ))
                    .execute(conn)
                    .await?;
                Ok(Some((asset, version.version)))
            })
            .await
        })
    }

    /// Every asset with its versions, oldest version first.
    pub async fn list_assets(&self) -> Result<Vec<(AssetRecord, Vec<VersionRecord>)>, StoreError> {
        let (all, versions) = with_read_conn!(self, |conn| {
            let all = assets::table
                .order(assets::id)
                .select(AssetRecord::as_select())
                .load(conn)
                .await?;
            let versions = asset_versions::table
                .order((asset_versions::asset_id, asset_versions::version))
                .select(VersionRecord::as_select())
                .load(conn)
                .await?;
            Ok::<_, StoreError>((all, versions))
        })?;
        Ok(group(all, versions))
    }

    /// An asset with its versions.
    pub async fn asset(
        &self,
        id: i64,
    ) -> Result<Option<(AssetRecord, Vec<VersionRecord>)>, StoreError> {
        let (found, versions) = with_read_conn!(self, |conn| {
            let found = assets::table
                .find(id)
                .select(AssetRecord::as_select())
                .first(conn)
                .await
                .optional()?;
            let versions = asset_versions::table
                .filter(asset_versions::asset_id.eq(id))
                .order(asset_versions::version)
                .select(VersionRecord::as_select())
                .load(conn)
                .await?;
            Ok::<_, StoreError>((found, versions))
        })?;
        Ok(found.map(|a| (a, versions)))
    }
}

/// Each asset with its own versions.
fn group(
    all: Vec<AssetRecord>,
    versions: Vec<VersionRecord>,
) -> Vec<(AssetRecord, Vec<VersionRecord>)> {
    let mut by_asset: std::collections::HashMap<i64, Vec<VersionRecord>> =
        std::collections::HashMap::new();
    for v in versions {
        by_asset.entry(v.asset_id).or_default().push(v);
    }
    all.into_iter()
        .map(|a| {
            let v = by_asset.remove(&a.id).unwrap_or_default();
            (a, v)
        })
        .collect()
}
