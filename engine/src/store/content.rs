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
    /// The version scenes play unless they pin one.
    pub live_version: Option<i32>,
}

/// A review decision on one version.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// It may play.
    Approve,
    /// It may not, for this reason.
    Reject(String),
}

/// What a review step did, or why it could not.
#[derive(Debug, Clone, PartialEq)]
pub enum Reviewed {
    /// Done: the version decided (or rolled back to).
    Done(i32),
    /// No such asset, or no such version of it.
    Unknown,
    /// No version fits: none is pending (to decide), or none approved before the
    /// live one (to roll back to), or the one named is not approved.
    Nothing(&'static str),
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
                                assets::live_version.eq(None::<i32>),
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

/// The live version of an asset (`Some(None)`: none yet); `None` when it does
/// not exist. A macro, so the one query serves both backends' connections.
macro_rules! live_version {
    ($conn:expr, $asset:expr) => {
        assets::table
            .find($asset)
            .select(assets::live_version)
            .first::<Option<i32>>($conn)
            .await
            .optional()?
    };
}

/// Make `$live` an asset's live version.
macro_rules! set_live {
    ($conn:expr, $asset:expr, $live:expr) => {
        diesel::update(assets::table.find($asset))
            .set(assets::live_version.eq($live))
            .execute($conn)
            .await?
    };
}

impl Store {
    /// Approve or reject `version` of `asset` (the newest pending one when none
    /// is named). Approving the newest approved version makes it live; rejecting
    /// the live one puts the newest approved one before it live.
    pub async fn decide_version(
        &self,
        asset: i64,
        version: Option<i32>,
        decision: &Decision,
        by: i64,
        at: NaiveDateTime,
    ) -> Result<Reviewed, StoreError> {
        with_conn!(self, |conn| {
            conn.transaction::<_, StoreError, _>(async move |conn| {
                let Some(live) = live_version!(conn, asset) else {
                    return Ok(Reviewed::Unknown);
                };
                let versions: Vec<(i32, String)> = asset_versions::table
                    .filter(asset_versions::asset_id.eq(asset))
                    .order(asset_versions::version)
                    .select((asset_versions::version, asset_versions::status))
                    .load(conn)
                    .await?;
                let chosen = match version {
                    Some(v) if versions.iter().any(|(n, _)| *n == v) => v,
                    Some(_) => return Ok(Reviewed::Unknown),
                    None => match versions.iter().rev().find(|(_, s)| s == "pending") {
                        Some((n, _)) => *n,
                        None => return Ok(Reviewed::Nothing("no version is waiting for review")),
                    },
                };
                let (status, reason) = match decision {
                    Decision::Approve => ("approved", None),
                    Decision::Reject(why) => ("rejected", Some(why.as_str())),
                };
                diesel::update(
                    asset_versions::table
                        .filter(asset_versions::asset_id.eq(asset))
                        .filter(asset_versions::version.eq(chosen)),
                )
                .set((
                    asset_versions::status.eq(status),
                    asset_versions::reason.eq(reason),
                    asset_versions::decided_by.eq(by),
                    asset_versions::decided_at.eq(at),
                ))
                .execute(conn)
                .await?;
                let approved = |n: i32| {
                    n == chosen && *decision == Decision::Approve
                        || n != chosen && versions.iter().any(|(v, s)| *v == n && s == "approved")
                };
                let live = match decision {
                    Decision::Approve if live.is_none_or(|l| chosen > l) => Some(chosen),
                    Decision::Reject(_) if live == Some(chosen) => versions
                        .iter()
                        .rev()
                        .map(|(n, _)| *n)
                        .find(|n| *n < chosen && approved(*n)),
                    _ => live,
                };
                set_live!(conn, asset, live);
                Ok(Reviewed::Done(chosen))
            })
            .await
        })
    }

    /// Make `to` (or the newest approved version before the live one) live again.
    pub async fn roll_back(&self, asset: i64, to: Option<i32>) -> Result<Reviewed, StoreError> {
        with_conn!(self, |conn| {
            conn.transaction::<_, StoreError, _>(async move |conn| {
                let Some(live) = live_version!(conn, asset) else {
                    return Ok(Reviewed::Unknown);
                };
                let approved: Vec<i32> = asset_versions::table
                    .filter(asset_versions::asset_id.eq(asset))
                    .filter(asset_versions::status.eq("approved"))
                    .order(asset_versions::version)
                    .select(asset_versions::version)
                    .load(conn)
                    .await?;
                let target = match to {
                    Some(v) if approved.contains(&v) => v,
                    Some(_) => {
                        return Ok(Reviewed::Nothing(
                            "only an approved version can be made live",
                        ));
                    }
                    None => match approved
                        .iter()
                        .rev()
                        .find(|v| live.is_some_and(|l| **v < l))
                    {
                        Some(v) => *v,
                        None => {
                            return Ok(Reviewed::Nothing(
                                "no approved version comes before the live one",
                            ));
                        }
                    },
                };
                set_live!(conn, asset, Some(target));
                Ok(Reviewed::Done(target))
            })
            .await
        })
    }

    /// Remove an asset and its versions; the hashes no other version has, whose
    /// files may go. `None` when there was no such asset.
    pub async fn delete_asset(&self, asset: i64) -> Result<Option<Vec<String>>, StoreError> {
        with_conn!(self, |conn| {
            conn.transaction::<_, StoreError, _>(async move |conn| {
                let hashes: Vec<String> = asset_versions::table
                    .filter(asset_versions::asset_id.eq(asset))
                    .select(asset_versions::sha256)
                    .load(conn)
                    .await?;
                diesel::delete(asset_versions::table.filter(asset_versions::asset_id.eq(asset)))
                    .execute(conn)
                    .await?;
                if diesel::delete(assets::table.find(asset))
                    .execute(conn)
                    .await?
                    == 0
                {
                    return Ok(None);
                }
                let still: HashSet<String> = asset_versions::table
                    .filter(asset_versions::sha256.eq_any(&hashes))
                    .select(asset_versions::sha256)
                    .load::<String>(conn)
                    .await?
                    .into_iter()
                    .collect();
                Ok(Some(
                    hashes.into_iter().filter(|h| !still.contains(h)).collect(),
                ))
            })
            .await
        })
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
