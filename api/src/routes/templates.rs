//! Scene templates: everyone reads, marketing and admins write and make scenes
//! from them.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::ids::TemplateId;
use limelight_shared::template::{Instantiate, TemplateSpec};

/// `GET /api/v1/templates`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_templates().await?))
}

/// `POST /api/v1/templates`
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<TemplateSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Created().json(engine.create_template(body.into_inner()).await?))
}

/// `GET /api/v1/templates/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.template(TemplateId(*id)).await?))
}

/// `PUT /api/v1/templates/{id}`
pub async fn update(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<TemplateSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Ok().json(
        engine
            .update_template(TemplateId(*id), body.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/templates/{id}`
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    engine.delete_template(TemplateId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/templates/{id}/instantiate`
pub async fn instantiate(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<Instantiate>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Created().json(engine.instantiate_template(TemplateId(*id), &body).await?))
}
