//! The audit log (admin only).

use crate::auth::{Auth, Permission};
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::error::ErrorCode;
use limelight_shared::events::MAX_PAGE;
use serde::Deserialize;

/// Most entries one page may hold.
const MAX_LIMIT: u32 = 500;

/// `?page=&limit=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Page number from 1 (default 1).
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u32>,
    /// Entries per page, 1-500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// `GET /api/v1/audit?page=&limit=`: newest first.
pub async fn list(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    query: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ManageSystem)?;
    let page = query.page.unwrap_or(1);
    let limit = query.limit.unwrap_or(50);
    if page == 0 || page > MAX_PAGE || limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("page must be 1-{MAX_PAGE} and limit 1-{MAX_LIMIT}"),
        ));
    }
    Ok(HttpResponse::Ok().json(engine.audit_log(page, limit).await?))
}
