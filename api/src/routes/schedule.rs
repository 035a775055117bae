//! The schedule: entries (marketing and admins write, everyone reads), previews
//! and timelines, and operators' overrides (take, release, start the next entry).

use crate::auth::{Auth, Permission};
use crate::body::{Json, OptionalJson};
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, FixedOffset, Utc};
use limelight_engine::EngineHandle;
use limelight_shared::ids::{CanvasId, ScheduleId};
use limelight_shared::schedule::{Release, ScheduleSpec};
use serde::Deserialize;

/// Default length of a timeline.
const DEFAULT_TIMELINE_DAYS: i64 = 7;

/// `GET /api/v1/schedule`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_schedule().await?))
}

/// `POST /api/v1/schedule`
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<ScheduleSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditSchedule)?;
    Ok(HttpResponse::Created().json(engine.create_schedule(body.into_inner()).await?))
}

/// `GET /api/v1/schedule/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.schedule_entry(ScheduleId(*id)).await?))
}

/// `PUT /api/v1/schedule/{id}`
pub async fn update(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<ScheduleSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditSchedule)?;
    Ok(HttpResponse::Ok().json(
        engine
            .update_schedule(ScheduleId(*id), body.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/schedule/{id}`
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditSchedule)?;
    engine.delete_schedule(ScheduleId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `?at=` of a preview: an RFC 3339 instant, now when absent.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct At {
    at: Option<DateTime<FixedOffset>>,
}

/// `GET /api/v1/schedule/preview?at=…`: what plays on every canvas then.
pub async fn preview(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    query: web::Query<At>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    let at = query.at.map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    Ok(HttpResponse::Ok().json(engine.schedule_preview(at).await?))
}

/// `?from=&to=` of a timeline: from now, for seven days, unless given.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Range {
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
}

/// `GET /api/v1/schedule/timeline?from=…&to=…`: every change in the range.
pub async fn timeline(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    query: web::Query<Range>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    let from = query.from.map_or_else(Utc::now, |t| t.with_timezone(&Utc));
    let to = query
        .to
        .map_or(from + chrono::Duration::days(DEFAULT_TIMELINE_DAYS), |t| {
            t.with_timezone(&Utc)
        });
    Ok(HttpResponse::Ok().json(engine.schedule_timeline(from, to).await?))
}

/// `GET /api/v1/overrides`: every canvas held by hand.
pub async fn overrides(
    auth: Auth,
    engine: web::Data<EngineHandle>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.overrides().await?))
}

/// `POST /api/v1/canvases/{id}/release`: hand the canvas back to the schedule.
pub async fn release(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: OptionalJson<Release>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    let fade_ms = body.0.and_then(|b| b.fade_ms);
    let state = engine.release_override(who, CanvasId(*id), fade_ms).await?;
    Ok(HttpResponse::Ok().json(state))
}

/// `POST /api/v1/canvases/{id}/advance`: start the next scheduled entry now.
pub async fn advance(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::LiveControl)?;
    let state = engine.advance_schedule(who, CanvasId(*id)).await?;
    Ok(HttpResponse::Ok().json(state))
}
