//! Cue lists (marketing and admins write, everyone reads) and the cue commands
//! operators give a canvas: run a list, GO, back, go to cue, panic.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::cues::{CueCommand, CueListSpec, Panic};
use limelight_shared::ids::{CanvasId, CueListId};

/// `GET /api/v1/cue-lists`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_cue_lists().await?.as_slice()))
}

/// `POST /api/v1/cue-lists`
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<CueListSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Created().json(engine.create_cue_list(body.into_inner()).await?))
}

/// `GET /api/v1/cue-lists/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.cue_list(CueListId(*id)).await?))
}

/// `PUT /api/v1/cue-lists/{id}`
pub async fn update(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<CueListSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Ok().json(
        engine
            .update_cue_list(CueListId(*id), body.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/cue-lists/{id}`
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    engine.delete_cue_list(CueListId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/canvases/{id}/cues`
pub async fn command(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    limits: web::Data<crate::limits::Limits>,
    body: Json<CueCommand>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    // The route is let past the limit for its panic; every other command counts.
    if !matches!(*body, CueCommand::Panic { .. }) {
        limits
            .rest(who.id.0, who.role)
            .await
            .map_err(|refused| refused.error())?;
    }
    Ok(HttpResponse::Ok().json(engine.cue(who, CanvasId(*id), &body).await?))
}

/// `POST /api/v1/panic`
pub async fn panic(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<Panic>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    Ok(HttpResponse::Ok().json(engine.panic_all(who, body.fade_ms).await?))
}
