//! Assets: what uploads become (see `uploads`). Staff read them; approvers
//! (admins, and users made approvers) approve, reject and roll back; marketing
//! and admins remove them.

use crate::auth::{Auth, Permission};
use crate::body::{Json, OptionalJson};
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::content::{Rejection, VersionChoice};
use limelight_shared::ids::AssetId;

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
