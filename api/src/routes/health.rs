//! Liveness, readiness, the cluster's nodes, metrics and the OpenAPI document.

use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::error::ErrorCode;
use metrics_exporter_prometheus::PrometheusHandle;

/// The answer of the health and readiness checks.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (alive) or `ready` (the database answers).
    pub status: &'static str,
    /// The storage backend, `sqlite` or `postgres` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        database: None,
    })
}

/// `GET /readyz`: the database answers, and when Redis is set, a message
/// published there comes back on this node's subscription.
pub async fn readyz(engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    engine.ready().await.map_err(|e| {
        tracing::warn!(error = %e, "not ready");
        let message = match e {
            limelight_engine::EngineError::Unavailable(why) => why,
            _ => "database unavailable",
        };
        ApiError::new(ErrorCode::Unavailable, message)
    })?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ready",
        database: Some(engine.backend()),
    }))
}

/// `GET /api/v1/cluster` (admin): the nodes, which one leads the output, and how
/// the database and Redis answer.
pub async fn cluster(
    auth: crate::auth::Auth,
    engine: web::Data<EngineHandle>,
) -> Result<HttpResponse, ApiError> {
    auth.require(crate::auth::Permission::ManageSystem)?;
    Ok(HttpResponse::Ok().json(engine.cluster().await?))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// `GET /api/v1/openapi.json`: generated once, from the route table.
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}

/// The document as JSON.
pub fn document() -> &'static str {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        crate::openapi::to_json(&super::openapi())
            .map(|doc| doc.to_string())
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    })
}

/// `GET /api/v1/docs`: the API reference, rendered from the document.
pub async fn reference() -> HttpResponse {
    static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let page = PAGE.get_or_init(|| {
        let doc = serde_json::from_str(document()).unwrap_or_default();
        crate::openapi::reference::page(&doc)
    });
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "content-security-policy",
            crate::openapi::reference::CONTENT_SECURITY_POLICY,
        ))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("x-frame-options", "DENY"))
        .insert_header(("referrer-policy", "no-referrer"))
        .body(page.as_str())
}
