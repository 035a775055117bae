//! Uploads over tus 1.0 (core, creation, creation-with-upload, termination,
//! expiration, checksum with sha256), for marketing and admins. Each chunk is
//! written to disk as it arrives; `GET` on an upload answers JSON, with the asset
//! it became once complete.
//!
//! Every tus answer carries `Tus-Resumable: 1.0.0`; a request that does not say
//! it speaks 1.0.0 is refused with 412 and `Tus-Version`.

use crate::auth::{Auth, Permission};
use crate::error::ApiError;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use limelight_engine::{EngineHandle, UploadMeta, UploadStatus};
use limelight_shared::error::ErrorCode;

const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration,checksum";
const CHUNK_TYPE: &str = "application/offset+octet-stream";

/// `OPTIONS /api/v1/uploads`: what this server speaks.
pub async fn options(engine: web::Data<EngineHandle>) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Tus-Resumable", TUS_VERSION))
        .insert_header(("Tus-Version", TUS_VERSION))
        .insert_header(("Tus-Extension", TUS_EXTENSIONS))
        .insert_header(("Tus-Max-Size", engine.max_upload().to_string()))
        .insert_header(("Tus-Checksum-Algorithm", "sha256"))
        .finish()
}

/// `POST /api/v1/uploads`: a new upload of `Upload-Length` bytes, described by
/// `Upload-Metadata`; with a body of `application/offset+octet-stream`, its
/// first bytes too.
pub async fn create(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    tus(async {
        let who = auth.require(Permission::ManageContent)?;
        speaks_tus(req.headers())?;
        let length = number(req.headers(), "Upload-Length")?;
        let raw = text(req.headers(), "Upload-Metadata")?.unwrap_or_default();
        let meta = UploadMeta::parse(&raw)?;
        let created = engine.create_upload(who, length, meta).await?;
        let id = created.upload.id.clone();
        let status = if is_chunk(req.headers()) {
            receive(&engine, who, &id, 0, req.headers(), body).await?
        } else {
            created
        };
        Ok(with_status(
            HttpResponse::Created()
                .insert_header((header::LOCATION, format!("/api/v1/uploads/{id}")))
                .take(),
            &status,
        ))
    })
    .await
}

/// `HEAD /api/v1/uploads/{id}`: where the upload stands.
pub async fn head(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    tus(async {
        let who = auth.require(Permission::ManageContent)?;
        speaks_tus(req.headers())?;
        let status = engine.upload(who, &id).await?;
        let mut res = HttpResponse::Ok();
        res.insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header(("Upload-Length", status.upload.length.to_string()));
        if !status.metadata.is_empty()
            && let Ok(value) = HeaderValue::from_str(&status.metadata)
        {
            res.insert_header(("Upload-Metadata", value));
        }
        Ok(with_status(res, &status))
    })
    .await
}

/// `PATCH /api/v1/uploads/{id}`: the next bytes, from `Upload-Offset`.
pub async fn patch(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Payload,
) -> HttpResponse {
    tus(async {
        let who = auth.require(Permission::ManageContent)?;
        speaks_tus(req.headers())?;
        if !is_chunk(req.headers()) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("a chunk is sent as {CHUNK_TYPE}"),
            ));
        }
        let offset = number(req.headers(), "Upload-Offset")?;
        let status = receive(&engine, who, &id, offset, req.headers(), body).await?;
        Ok(with_status(HttpResponse::NoContent(), &status))
    })
    .await
}

/// `DELETE /api/v1/uploads/{id}`: end the upload and remove its bytes.
pub async fn delete(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    tus(async {
        let who = auth.require(Permission::ManageContent)?;
        speaks_tus(req.headers())?;
        engine.terminate_upload(who, &id).await?;
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// `GET /api/v1/uploads/{id}`: the upload as JSON, with the asset it became.
pub async fn get(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageContent)?;
    Ok(HttpResponse::Ok().json(engine.upload(who, &id).await?.upload))
}

/// Write the request's body into upload `id` from `offset`. A connection that
/// drops midway keeps what arrived: those bytes are synced and acknowledged. The
/// writing runs as a task of its own on this worker, so it finishes even when the
/// request it serves is dropped with its connection.
async fn receive(
    engine: &EngineHandle,
    who: &limelight_engine::Principal,
    id: &str,
    offset: u64,
    headers: &HeaderMap,
    mut body: web::Payload,
) -> Result<UploadStatus, ApiError> {
    let checksum = checksum(headers)?;
    let mut writer = engine.write_upload(who, id, offset, checksum).await?;
    let (id, engine, who) = (id.to_owned(), engine.clone(), who.clone());
    let task = actix_web::rt::spawn(async move {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => writer.write(&bytes).await?,
                Err(e) => {
                    tracing::info!(upload = %id, error = %e, "an upload's connection dropped; keeping what came");
                    break;
                }
            }
        }
        engine.finish_upload(&who, writer).await
    });
    match task.await {
        Ok(done) => Ok(done?),
        Err(e) => {
            tracing::error!(error = %e, "an upload's writing task failed");
            Err(ApiError::new(
                ErrorCode::Internal,
                "internal error; see the server log",
            ))
        }
    }
}

/// The answer's tus headers: `Tus-Resumable` always, `Tus-Version` with a 412.
async fn tus(answer: impl Future<Output = Result<HttpResponse, ApiError>>) -> HttpResponse {
    let mut res = match answer.await {
        Ok(res) => res,
        Err(e) => actix_web::ResponseError::error_response(&e),
    };
    let headers = res.headers_mut();
    headers.insert(
        header::HeaderName::from_static("tus-resumable"),
        HeaderValue::from_static(TUS_VERSION),
    );
    if res.status() == actix_web::http::StatusCode::PRECONDITION_FAILED {
        res.headers_mut().insert(
            header::HeaderName::from_static("tus-version"),
            HeaderValue::from_static(TUS_VERSION),
        );
    }
    res
}

fn with_status(mut res: actix_web::HttpResponseBuilder, status: &UploadStatus) -> HttpResponse {
    res.insert_header(("Upload-Offset", status.upload.offset.to_string()))
        .insert_header((
            "Upload-Expires",
            status
                .upload
                .expires_at
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        ))
        .finish()
}

fn speaks_tus(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("Tus-Resumable").map(HeaderValue::to_str) {
        Some(Ok(TUS_VERSION)) => Ok(()),
        Some(other) => Err(ApiError::new(
            ErrorCode::TusVersion,
            format!(
                "this server speaks tus {TUS_VERSION}, not {:?}",
                other.unwrap_or("?")
            ),
        )),
        None => Err(ApiError::new(
            ErrorCode::TusVersion,
            format!("a tus request carries Tus-Resumable: {TUS_VERSION}"),
        )),
    }
}

fn is_chunk(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim() == CHUNK_TYPE))
}

fn text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map(str::to_owned).map_err(|_| {
                ApiError::new(
                    ErrorCode::ValidationFailed,
                    format!("{name} must be ASCII text"),
                )
            })
        })
        .transpose()
}

fn number(headers: &HeaderMap, name: &str) -> Result<u64, ApiError> {
    let value = text(headers, name)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::ValidationFailed,
            format!("the {name} header is needed"),
        )
    })?;
    value.trim().parse().map_err(|_| {
        ApiError::new(
            ErrorCode::ValidationFailed,
            format!("{name} must be a whole number of bytes, got {value:?}"),
        )
    })
}

/// `Upload-Checksum: sha256 <base64>`, when sent.
fn checksum(headers: &HeaderMap) -> Result<Option<[u8; 32]>, ApiError> {
    use base64::Engine as _;
    let Some(value) = text(headers, "Upload-Checksum")? else {
        return Ok(None);
    };
    let bad = || {
        ApiError::new(
            ErrorCode::ValidationFailed,
            format!("Upload-Checksum must be \"sha256 <base64 digest>\", got {value:?}"),
        )
    };
    let (algorithm, digest) = value.trim().split_once(' ').ok_or_else(bad)?;
    if algorithm != "sha256" {
        return Err(bad());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(digest.trim())
        .map_err(|_| bad())?;
    Ok(Some(bytes.try_into().map_err(|_| bad())?))
}
