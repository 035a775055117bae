//! Users (admin only).

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::ids::UserId;
use limelight_shared::users::{CreateUser, UpdateUser};

/// `GET /api/v1/users`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageUsers)?;
    Ok(HttpResponse::Ok().json(engine.list_users().await?))
}

/// `POST /api/v1/users`
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageUsers)?;
    let user = engine
        .create_user(&body.username, &body.password, body.role)
        .await?;
    Ok(HttpResponse::Created().json(user))
}

/// `GET /api/v1/users/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageUsers)?;
    Ok(HttpResponse::Ok().json(engine.user(UserId(*id)).await?))
}

/// `PATCH /api/v1/users/{id}`
pub async fn update(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageUsers)?;
    let user = engine
        .update_user(
            UserId(*id),
            body.password.as_deref(),
            body.role,
            body.approver,
        )
        .await?;
    Ok(HttpResponse::Ok().json(user))
}

/// `DELETE /api/v1/users/{id}`
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageUsers)?;
    engine.delete_user(UserId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
