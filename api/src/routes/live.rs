//! Live control of canvases.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::control::{GrandMaster, SetBlackout, SetEmergency, SetMaster, TriggerScene};
use limelight_shared::ids::CanvasId;

/// `GET /api/v1/state`: every canvas's live state.
pub async fn states(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.states().await?))
}

/// `GET /api/v1/canvases/{id}/state`
pub async fn state(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.state(CanvasId(*id)).await?))
}

/// `POST /api/v1/canvases/{id}/scene`
pub async fn trigger_scene(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<TriggerScene>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    let state = engine.trigger_scene(who, CanvasId(*id), &body).await?;
    Ok(HttpResponse::Ok().json(state))
}

/// `POST /api/v1/canvases/{id}/blackout`
pub async fn blackout(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<SetBlackout>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    let state = engine.set_blackout(who, CanvasId(*id), body.on).await?;
    Ok(HttpResponse::Ok().json(state))
}

/// `POST /api/v1/canvases/{id}/master`
pub async fn master(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<SetMaster>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    let state = engine.set_master(who, CanvasId(*id), body.level).await?;
    Ok(HttpResponse::Ok().json(state))
}

/// `POST /api/v1/canvases/{id}/emergency`
pub async fn emergency(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<SetEmergency>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    let state = engine.set_emergency(who, CanvasId(*id), body.on).await?;
    Ok(HttpResponse::Ok().json(state))
}

/// `GET /api/v1/grand-master`
pub async fn grand_master(
    auth: Auth,
    engine: web::Data<EngineHandle>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(GrandMaster {
        level: engine.grand_master().await?,
    }))
}

/// `PUT /api/v1/grand-master`
pub async fn set_grand_master(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<SetMaster>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    let level = engine.set_grand_master(who, body.level).await?;
    Ok(HttpResponse::Ok().json(GrandMaster { level }))
}
