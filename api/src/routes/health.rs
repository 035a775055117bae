//! Liveness, readiness, metrics and the OpenAPI document.

use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::error::ErrorCode;
use metrics_exporter_prometheus::PrometheusHandle;

/// The OpenAPI document, kept beside the routes; a test checks they agree.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// `GET /healthz`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers.
pub async fn readyz(engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    engine.ready().await.map_err(|e| {
        tracing::warn!(error = %e, "not ready");
        ApiError::new(ErrorCode::Unavailable, "database unavailable")
    })?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "status": "ready", "database": engine.backend() })))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}
