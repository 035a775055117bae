//! Assets: what uploads become (see `uploads`). Staff read them; approvers
//! (admins, and users made approvers) approve, reject and roll back; marketing
//! and admins remove them.

use crate::auth::{Auth, Permission};
use crate::body::{Json, OptionalJson};
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::content::{Rejection, VersionChoice};
use limelight_shared::error::ErrorCode;
use limelight_shared::ids::AssetId;
use serde::Deserialize;

/// `GET /api/v1/assets`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_assets().await?))
}

/// `GET /api/v1/assets/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.asset(AssetId(*id)).await?))
}

/// `?version=&size=` of an asset's thumbnail.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailQuery {
    /// The version (default: the newest).
    #[param(minimum = 1)]
    version: Option<u32>,
    /// Longest side in pixels (16-512, default 128).
    #[param(minimum = 16, maximum = 512)]
    size: Option<u32>,
}

/// `GET /api/v1/assets/{id}/thumbnail`: a version fitted inside `size` x `size`
/// pixels (never enlarged), over black as an LED shows it, as a PNG. Pending
/// versions included: it is what an approver looks at.
pub async fn thumbnail(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    query: web::Query<ThumbnailQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    let size = query.size.unwrap_or(128);
    if !(16..=512).contains(&size) {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("size must be 16-512 pixels, got {size}"),
        ));
    }
    let (width, height, rgb) = engine
        .asset_thumbnail(AssetId(*id), query.version, size)
        .await?;
    let png = super::scenes::encode_png(&rgb, width, height).map_err(|e| {
        tracing::error!(error = %e, "a thumbnail could not be encoded");
        ApiError::new(ErrorCode::Internal, "the thumbnail could not be made")
    })?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, no-cache"))
        .body(png))
}

/// `POST /api/v1/assets/{id}/approve`
pub async fn approve(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: OptionalJson<VersionChoice>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Approve)?;
    let version = body.0.unwrap_or_default().version;
    Ok(HttpResponse::Ok().json(engine.approve_asset(who, AssetId(*id), version).await?))
}

/// `POST /api/v1/assets/{id}/reject`
pub async fn reject(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<Rejection>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Approve)?;
    let body = body.into_inner();
    Ok(HttpResponse::Ok().json(
        engine
            .reject_asset(who, AssetId(*id), body.version, &body.reason)
            .await?,
    ))
}

/// `POST /api/v1/assets/{id}/rollback`
pub async fn roll_back(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: OptionalJson<VersionChoice>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Approve)?;
    let version = body.0.unwrap_or_default().version;
    Ok(HttpResponse::Ok().json(engine.roll_back_asset(who, AssetId(*id), version).await?))
}

/// `DELETE /api/v1/assets/{id}`
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageContent)?;
    engine.delete_asset(who, AssetId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
