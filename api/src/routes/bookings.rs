//! Holds and bookings of a session. Every change is answered once the session's
//! ledger has committed it. `Idempotency-Key` makes a retry safe: the same key
//! with the same request gets the first answer again; with another request, 409.

use super::events::PageQuery;
use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use crate::openapi::{Describe, Op};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::booking::PlaceRequest;
use limelight_shared::error::ErrorCode;
use limelight_shared::ids::SessionId;

/// The request's `Idempotency-Key` header, if any: a retry with the same key gets
/// the first answer again.
#[derive(Debug)]
pub struct IdempotencyKey(Option<String>);

impl IdempotencyKey {
    fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let key = req
            .headers()
            .get("idempotency-key")
            .map(|v| {
                v.to_str().map(str::to_owned).map_err(|_| {
                    ApiError::new(
                        ErrorCode::ValidationFailed,
                        "Idempotency-Key must be visible ASCII",
                    )
                })
            })
            .transpose();
        std::future::ready(key.map(IdempotencyKey))
    }
}

impl Describe for IdempotencyKey {
    fn describe(op: &mut Op) {
        op.header(
            "Idempotency-Key",
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .pattern(Some("^[!-~]{1,200}$"))
                .into(),
            "Makes a retry safe: the same key answers as the first request did (1-200 visible ASCII characters)",
        );
    }
}

/// `GET /api/v1/sessions/{id}/availability`
pub async fn availability(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Browse)?;
    let a = engine
        .availability(SessionId(*id), auth.published_only())
        .await?;
    Ok(HttpResponse::Ok().json(a))
}

/// `POST /api/v1/sessions/{id}/holds`: `{"quantity": n}` or `{"seats": [...]}`;
/// 201 with the hold and its `expires_at`.
pub async fn hold(
    auth: Auth,
    key: IdempotencyKey,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<PlaceRequest>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Book)?;
    let hold = engine
        .hold(who, SessionId(*id), &body, false, key.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(hold))
}

/// `POST /api/v1/sessions/{id}/holds/{hold}/confirm`: book what the hold keeps.
pub async fn confirm(
    auth: Auth,
    key: IdempotencyKey,
    engine: web::Data<EngineHandle>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Book)?;
    let (session, hold) = path.into_inner();
    let booking = engine
        .confirm_hold(who, SessionId(session), &hold, key.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(booking))
}

/// `DELETE /api/v1/sessions/{id}/holds/{hold}` and
/// `DELETE /api/v1/sessions/{id}/bookings/{booking}`: give a hold back, or cancel a
/// booking; the answer shows it released or cancelled.
pub async fn release(
    auth: Auth,
    key: IdempotencyKey,
    engine: web::Data<EngineHandle>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Book)?;
    let (session, id) = path.into_inner();
    let booking = engine
        .release_booking(who, SessionId(session), &id, key.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(booking))
}

/// `POST /api/v1/sessions/{id}/bookings`: book at once, without a hold.
pub async fn book(
    auth: Auth,
    key: IdempotencyKey,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<PlaceRequest>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Book)?;
    let booking = engine
        .hold(who, SessionId(*id), &body, true, key.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(booking))
}

/// `GET /api/v1/sessions/{id}/bookings`: every hold and booking, as stored (staff).
pub async fn list(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    let page = engine
        .session_bookings(SessionId(*id), &query.paging()?)
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /api/v1/me/bookings`: the caller's holds and bookings, newest first.
pub async fn mine(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Book)?;
    Ok(HttpResponse::Ok().json(engine.my_bookings(who).await?))
}
