//! Login.

use crate::auth::{Auth, Tokens, bearer};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpRequest, HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::users::{LoginRequest, LoginResponse, Role};

/// `POST /api/v1/auth/login`: a token for a user name and password.
pub async fn login(
    req: HttpRequest,
    engine: web::Data<EngineHandle>,
    tokens: web::Data<Tokens>,
    limits: web::Data<crate::limits::Limits>,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    limits
        .login(&body.username, req.peer_addr().map(|a| a.ip()))
        .await
        .map_err(|refused| refused.error())?;
    let user = engine.authenticate(&body.username, &body.password).await?;
    let (token, expires) = tokens.issue(user.id, &user.username)?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        role: user.role,
    }))
}

/// `POST /api/v1/auth/signup`: an attendee account, and a token for it.
pub async fn signup(
    engine: web::Data<EngineHandle>,
    tokens: web::Data<Tokens>,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = engine
        .create_user(&body.username, &body.password, Role::Attendee)
        .await?;
    let (token, expires) = tokens.issue(user.id, &user.username)?;
    Ok(HttpResponse::Created().json(LoginResponse {
        token,
        expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        role: user.role,
    }))
}

/// `GET /api/v1/auth/me`: who the token belongs to (any role).
pub async fn me(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(engine.user(auth.0.id).await?))
}

/// `POST /api/v1/auth/logout`: end the token the request carries, here and on
/// every node, before it would expire. The user's other tokens keep working.
pub async fn logout(
    _auth: Auth,
    req: HttpRequest,
    engine: web::Data<EngineHandle>,
    tokens: web::Data<Tokens>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(&req).unwrap_or_default();
    let verified = tokens.check(&engine, token)?;
    if let Some(id) = verified.id {
        engine.revoke_token(&id, verified.expires_at).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
