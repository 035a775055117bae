//! A session's waitlist. Joining is answered once the session's ledger has stored
//! the entry; offers arrive over the WebSocket (`WAITLIST_OFFER`) and show here.
//! An offer is a hold: confirm it (`POST …/holds/{offer}/confirm`) to book, release
//! it (`DELETE …/holds/{offer}`, or leave the list) to decline.

use super::events::PageQuery;
use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::booking::JoinWaitlist;
use limelight_shared::ids::SessionId;

/// `POST /api/v1/sessions/{id}/waitlist`: `{"party": n}`; 201 with the entry and
/// its position (or its offer, when places were free for it at once).
pub async fn join(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<JoinWaitlist>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Book)?;
    let entry = engine.join_waitlist(who, SessionId(*id), &body).await?;
    Ok(HttpResponse::Created().json(entry))
}

/// `GET /api/v1/sessions/{id}/waitlist/me`: the caller's entry, position and offer.
pub async fn mine(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Book)?;
    Ok(HttpResponse::Ok().json(engine.my_waitlist_entry(who, SessionId(*id)).await?))
}

/// `DELETE /api/v1/sessions/{id}/waitlist/me`: leave the list, declining an open
/// offer.
pub async fn leave(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::Book)?;
    Ok(HttpResponse::Ok().json(engine.leave_waitlist(who, SessionId(*id)).await?))
}

/// `GET /api/v1/sessions/{id}/waitlist`: the list in offer order (staff).
pub async fn list(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    let page = engine.waitlist(SessionId(*id), &query.paging()?).await?;
    Ok(HttpResponse::Ok().json(page))
}
