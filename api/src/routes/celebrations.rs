//! Celebrations: staff read them, scene editors write them, live controllers fire them.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::celebration::CelebrationSpec;
use limelight_shared::ids::CelebrationId;

/// `GET /api/v1/celebrations`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_celebrations().await?))
}

/// `POST /api/v1/celebrations`
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<CelebrationSpec>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Created().json(engine.create_celebration(who, body.into_inner()).await?))
}

/// `GET /api/v1/celebrations/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.celebration(CelebrationId(*id)).await?))
}

/// `PUT /api/v1/celebrations/{id}`
pub async fn update(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<CelebrationSpec>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Ok().json(
        engine
            .update_celebration(who, CelebrationId(*id), body.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/celebrations/{id}`
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::EditScenes)?;
    engine.delete_celebration(who, CelebrationId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/celebrations/{id}/fire`
pub async fn fire(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    Ok(HttpResponse::Ok().json(engine.fire_celebration(who, CelebrationId(*id)).await?))
}
