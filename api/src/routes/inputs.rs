//! Inputs: staff read them and their live state, admins write them.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::ids::InputId;
use limelight_shared::input::InputSpec;

/// `GET /api/v1/inputs`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_inputs().await?))
}

/// `POST /api/v1/inputs`
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<InputSpec>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageSystem)?;
    Ok(HttpResponse::Created().json(engine.create_input(who, body.into_inner()).await?))
}

/// `GET /api/v1/inputs/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.input(InputId(*id)).await?))
}

/// `PUT /api/v1/inputs/{id}`
pub async fn update(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<InputSpec>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageSystem)?;
    Ok(HttpResponse::Ok().json(
        engine
            .update_input(who, InputId(*id), body.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/inputs/{id}`
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageSystem)?;
    engine.delete_input(who, InputId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/inputs/{id}/state`
pub async fn state(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.input_state(InputId(*id)).await?))
}
