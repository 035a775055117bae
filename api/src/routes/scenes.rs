//! Scenes: everyone reads, marketing and admins write. Bodies are read as bytes so
//! errors can name the field, line and column.

use crate::auth::{Auth, Permission};
use crate::error::ApiError;
use actix_web::{HttpRequest, HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::error::ErrorCode;
use limelight_shared::ids::SceneId;

pub(super) fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "body must be application/json",
        ))
    }
}

/// `GET /api/v1/scenes`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_scenes().await?))
}

/// `POST /api/v1/scenes`
pub async fn create(
    auth: Auth,
    req: HttpRequest,
    engine: web::Data<EngineHandle>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    require_json(&req)?;
    Ok(HttpResponse::Created().json(engine.create_scene(&body).await?))
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
    req: HttpRequest,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    require_json(&req)?;
    Ok(HttpResponse::Ok().json(engine.update_scene(SceneId(*id), &body).await?))
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
