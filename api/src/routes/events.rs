//! Venues, events, their sessions, and incidents. Staff write; everyone browses,
//! attendees only what is published; incidents are for staff.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, FixedOffset, Utc};
use limelight_engine::EngineHandle;
use limelight_shared::error::ErrorCode;
use limelight_shared::events::{
    EventFilter, EventKind, EventSpec, EventStatus, IncidentFilter, IncidentSpec, IncidentStatus,
    Paging, SessionSpec, Urgency, VenueSpec,
};
use limelight_shared::ids::{EventId, IncidentId, SessionId, VenueId};
use serde::Deserialize;

/// `?page=&limit=&sort=` of any list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    sort: Option<String>,
}

fn paging(page: Option<u32>, limit: Option<u32>, sort: Option<String>) -> Result<Paging, ApiError> {
    Paging::new(page, limit, sort).map_err(|e| ApiError::new(ErrorCode::ValidationFailed, e.0))
}

impl PageQuery {
    /// The checked paging.
    pub fn paging(&self) -> Result<Paging, ApiError> {
        paging(self.page, self.limit, self.sort.clone())
    }
}

/// `GET /api/v1/venues`
pub async fn list_venues(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Browse)?;
    Ok(HttpResponse::Ok().json(engine.list_venues(&query.paging()?).await?))
}

/// `POST /api/v1/venues`
pub async fn create_venue(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<VenueSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    Ok(HttpResponse::Created().json(engine.create_venue(body.into_inner()).await?))
}

/// `GET /api/v1/venues/{id}`
pub async fn get_venue(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Browse)?;
    Ok(HttpResponse::Ok().json(engine.venue(VenueId(*id)).await?))
}

/// `PUT /api/v1/venues/{id}`
pub async fn update_venue(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<VenueSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    Ok(HttpResponse::Ok().json(engine.update_venue(VenueId(*id), body.into_inner()).await?))
}

/// `DELETE /api/v1/venues/{id}`: 409 while it has events.
pub async fn delete_venue(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    engine.delete_venue(VenueId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `?q=&status=&type=&priority=&venue=&from=&to=` plus paging, of events.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    sort: Option<String>,
    q: Option<String>,
    status: Option<EventStatus>,
    #[serde(rename = "type")]
    kind: Option<EventKind>,
    priority: Option<Urgency>,
    venue: Option<i64>,
    from: Option<DateTime<FixedOffset>>,
    to: Option<DateTime<FixedOffset>>,
}

/// `GET /api/v1/events`: search by name (`q`), filter, sort and page.
pub async fn list_events(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Browse)?;
    let q = query.into_inner();
    let paging = paging(q.page, q.limit, q.sort)?;
    let filter = EventFilter {
        q: q.q.filter(|s| !s.is_empty()),
        status: q.status,
        kind: q.kind,
        priority: q.priority,
        venue: q.venue.map(VenueId),
        from: q.from.map(|t| t.with_timezone(&Utc)),
        to: q.to.map(|t| t.with_timezone(&Utc)),
    };
    let page = engine
        .list_events(&filter, &paging, auth.published_only())
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /api/v1/events`
pub async fn create_event(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<EventSpec>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageEvents)?;
    Ok(HttpResponse::Created().json(engine.create_event(who, body.into_inner()).await?))
}

/// `GET /api/v1/events/{id}`
pub async fn get_event(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Browse)?;
    let event = engine.event(EventId(*id), auth.published_only()).await?;
    Ok(HttpResponse::Ok().json(event))
}

/// `PUT /api/v1/events/{id}`
pub async fn update_event(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<EventSpec>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageEvents)?;
    Ok(HttpResponse::Ok().json(
        engine
            .update_event(who, EventId(*id), body.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/events/{id}`: with its sessions; 409 while one has bookings.
pub async fn delete_event(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    engine.delete_event(EventId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/events/{id}/sessions`
pub async fn list_sessions(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Browse)?;
    let page = engine
        .list_sessions(EventId(*id), &query.paging()?, auth.published_only())
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /api/v1/events/{id}/sessions`
pub async fn create_session(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<SessionSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    Ok(HttpResponse::Created().json(
        engine
            .create_session(EventId(*id), body.into_inner())
            .await?,
    ))
}

/// `GET /api/v1/sessions/{id}`
pub async fn get_session(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Browse)?;
    let session = engine
        .session(SessionId(*id), auth.published_only())
        .await?;
    Ok(HttpResponse::Ok().json(session))
}

/// `PUT /api/v1/sessions/{id}`
pub async fn update_session(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<SessionSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    Ok(HttpResponse::Ok().json(
        engine
            .update_session(SessionId(*id), body.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/sessions/{id}`: 409 while it has live holds or bookings.
pub async fn delete_session(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    engine.delete_session(SessionId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `?status=&priority=&event=` plus paging, of incidents.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    sort: Option<String>,
    status: Option<IncidentStatus>,
    priority: Option<Urgency>,
    event: Option<i64>,
}

/// `GET /api/v1/incidents`
pub async fn list_incidents(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    query: web::Query<IncidentQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    let q = query.into_inner();
    let paging = paging(q.page, q.limit, q.sort)?;
    let filter = IncidentFilter {
        status: q.status,
        priority: q.priority,
        event: q.event.map(EventId),
    };
    Ok(HttpResponse::Ok().json(engine.list_incidents(&filter, &paging).await?))
}

/// `POST /api/v1/incidents`
pub async fn create_incident(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<IncidentSpec>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageEvents)?;
    Ok(HttpResponse::Created().json(engine.create_incident(who, body.into_inner()).await?))
}

/// `GET /api/v1/incidents/{id}`
pub async fn get_incident(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.incident(IncidentId(*id)).await?))
}

/// `PUT /api/v1/incidents/{id}`
pub async fn update_incident(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<IncidentSpec>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageEvents)?;
    Ok(HttpResponse::Ok().json(
        engine
            .update_incident(who, IncidentId(*id), body.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/incidents/{id}`
pub async fn delete_incident(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageEvents)?;
    engine.delete_incident(IncidentId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
