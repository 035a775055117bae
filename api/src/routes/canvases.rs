//! Canvas configuration: everyone reads, admins write.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::canvas::CanvasSpec;
use limelight_shared::ids::CanvasId;

/// `GET /api/v1/canvases`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_canvases().await?.as_slice()))
}

/// `POST /api/v1/canvases`: add a canvas; it starts sending at once.
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<CanvasSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageSystem)?;
    let canvas = engine.create_canvas(body.into_inner()).await?;
    Ok(HttpResponse::Created().json(canvas))
}

/// `GET /api/v1/canvases/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.canvas(CanvasId(*id)).await?))
}

/// `PUT /api/v1/canvases/{id}`: replace the configuration; the canvas restarts with
/// it and keeps its live state.
pub async fn update(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<CanvasSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageSystem)?;
    let canvas = engine
        .update_canvas(CanvasId(*id), body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(canvas))
}

/// `DELETE /api/v1/canvases/{id}`: the stream ends with Stream_Terminated.
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageSystem)?;
    engine.delete_canvas(CanvasId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
