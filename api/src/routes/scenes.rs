//! Scenes: everyone reads, marketing and admins write.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::{EngineHandle, ThumbnailSize};
use limelight_shared::error::ErrorCode;
use limelight_shared::ids::SceneId;
use limelight_shared::scene::SceneSpec;
use serde::Deserialize;

/// `GET /api/v1/scenes`
pub async fn list(auth: Auth, engine: web::Data<EngineHandle>) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.list_scenes().await?.as_slice()))
}

/// `POST /api/v1/scenes`
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    body: Json<SceneSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Created().json(engine.create_scene(body.into_inner()).await?))
}

/// `GET /api/v1/scenes/{id}`
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    Ok(HttpResponse::Ok().json(engine.scene(SceneId(*id)).await?))
}

/// `PUT /api/v1/scenes/{id}`
pub async fn update(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<SceneSpec>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    Ok(HttpResponse::Ok().json(engine.update_scene(SceneId(*id), body.into_inner()).await?))
}

/// `DELETE /api/v1/scenes/{id}`
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::EditScenes)?;
    engine.delete_scene(SceneId(*id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `?width=&height=&seconds=` of a thumbnail.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailQuery {
    /// Columns: pixels along the strip (8-512, default 64).
    #[param(minimum = 8, maximum = 512)]
    width: Option<u32>,
    /// Rows: instants, top first (1-128, default 16).
    #[param(minimum = 1, maximum = 128)]
    height: Option<u32>,
    /// Time the rows span, in seconds (0-60, default 4).
    #[param(minimum = 0, maximum = 60)]
    seconds: Option<f64>,
}

impl ThumbnailQuery {
    fn size(&self) -> Result<ThumbnailSize, ApiError> {
        let width = self.width.unwrap_or(64);
        let height = self.height.unwrap_or(16);
        let seconds = self.seconds.unwrap_or(4.0);
        let invalid = |what: &str| Err(ApiError::new(ErrorCode::ValidationFailed, what));
        if !(8..=512).contains(&width) {
            return invalid("width must be 8-512 pixels");
        }
        if !(1..=128).contains(&height) {
            return invalid("height must be 1-128 rows");
        }
        if !(0.0..=60.0).contains(&seconds) {
            return invalid("seconds must be 0-60");
        }
        Ok(ThumbnailSize {
            width: width as usize,
            rows: height as usize,
            seconds,
        })
    }
}

/// `GET /api/v1/scenes/{id}/thumbnail`: the scene on a strip over a few seconds, a
/// row per instant, as a PNG.
pub async fn thumbnail(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    query: web::Query<ThumbnailQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Read)?;
    let size = query.size()?;
    let rgb = engine.scene_thumbnail(SceneId(*id), size).await?;
    let png = encode_png(&rgb, size.width as u32, size.rows as u32).map_err(|e| {
        tracing::error!(error = %e, "a thumbnail could not be encoded");
        ApiError::new(ErrorCode::Internal, "the thumbnail could not be made")
    })?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, no-cache"))
        .body(png))
}

/// `width` x `height` RGB rows as an 8-bit PNG.
pub(super) fn encode_png(
    rgb: &[u8],
    width: u32,
    height: u32,
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}
