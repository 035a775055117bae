//! The WebSocket (`/api/v1/ws`): operators' consoles and attendees' rooms. The token is checked before the upgrade;
//! each connection then runs as its own session task (`session.rs`), which owns its
//! state, and writes into a bounded outbox that the response body drains
//! (`outbound.rs`). Room events reach the outboxes through the relay of the
//! worker thread that serves the connection (`relay.rs`).

mod outbound;
mod relay;
mod session;

use crate::auth::{Tokens, bearer};
use crate::error::ApiError;
use actix_web::{HttpRequest, HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::error::ErrorCode;
use std::collections::HashMap;

/// Largest message a console may send.
const MAX_FRAME_BYTES: usize = 64 * 1024;

/// `GET /api/v1/ws`: upgrade to the operator protocol. The token comes as
/// `Authorization: Bearer` or, for browsers, `?token=`.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    engine: web::Data<EngineHandle>,
    tokens: web::Data<Tokens>,
) -> Result<HttpResponse, ApiError> {
    let from_query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("token").cloned());
    let token = bearer(&req)
        .map(str::to_owned)
        .or(from_query)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "a token is needed (?token=)"))?;
    let principal = tokens.principal(&engine, &token).await?;
    let (response, _, stream) = actix_ws::handle(&req, body).map_err(|e| {
        ApiError::new(
            ErrorCode::BadMessage,
            format!("not a WebSocket upgrade: {e}"),
        )
    })?;
    let stream = stream
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);
    let (response, out) = outbound::attach(response, session::OUTBOUND_CAPACITY);
    let session = session::Session::new(engine.get_ref().clone(), principal, out);
    actix_web::rt::spawn(session.run(stream));
    Ok(response)
}
