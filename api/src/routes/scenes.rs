//! Scenes: everyone reads, marketing and admins write.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::ids::SceneId;
use limelight_shared::scene::SceneSpec;

/// `GET /api/v1/scenes`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_scenes().await?.as_slice()))
}

/// `POST /api/v1/scenes`
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<SceneSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Created().json(engine.create_scene(body.into_inner()).await?))
}

/// `GET /api/v1/scenes/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.scene(SceneId(*id)).await?))
}

/// `PUT /api/v1/scenes/{id}`
pub async fn update(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<SceneSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Ok().json(engine.update_scene(SceneId(*id), body.into_inner()).await?))
}

/// `DELETE /api/v1/scenes/{id}`
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    engine.delete_scene(SceneId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
