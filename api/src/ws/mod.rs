//! The WebSocket (`/api/v1/ws`): operators' consoles and attendees' rooms. The token is checked before the upgrade;
//! each connection then runs as its own session task (`session.rs`), which owns its
//! state, and writes into a bounded outbox that the response body drains
//! (`outbound.rs`). Room events reach the outboxes through the relay of the
//! worker thread that serves the connection (`relay.rs`).

mod control;
mod outbound;
mod preview;
mod relay;
mod session;

pub(crate) use control::control;

use crate::auth::{Tokens, bearer};
use crate::error::ApiError;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_shared::error::ErrorCode;
use std::collections::HashMap;

/// Largest message a console may send.
const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The subprotocol a browser offers, with its token as `bearer.<token>` beside it.
pub const SUBPROTOCOL: &str = "limelight.v1";

/// The token offered as a subprotocol `bearer.<token>`, and whether
/// [`SUBPROTOCOL`] was offered with it.
fn offered(req: &HttpRequest) -> (Option<String>, bool) {
    let mut token = None;
    let mut ours = false;
    for value in req.headers().get_all(header::SEC_WEBSOCKET_PROTOCOL) {
        for item in value.to_str().unwrap_or_default().split(',').map(str::trim) {
            if item == SUBPROTOCOL {
                ours = true;
            } else if let Some(t) = item.strip_prefix("bearer.") {
                token = Some(t.to_owned());
            }
        }
    }
    (token, ours)
}

/// `GET /api/v1/ws`: upgrade to the operator protocol. The token comes as
/// `Authorization: Bearer`; from a browser, as the subprotocol `bearer.<token>`
/// beside `limelight.v1` (so it is in no URL), or as `?token=`.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    engine: web::Data<EngineHandle>,
    tokens: web::Data<Tokens>,
    limits: web::Data<crate::limits::Limits>,
) -> Result<HttpResponse, ApiError> {
    let from_query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("token").cloned());
    let (from_protocol, ours) = offered(&req);
    let token = bearer(&req)
        .map(str::to_owned)
        .or(from_protocol)
        .or(from_query)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "a token is needed (Authorization: Bearer, the subprotocol bearer.<token>, or ?token=)",
            )
        })?;
    let principal = tokens.principal(&engine, &token).await?;
    let (mut response, _, stream) = actix_ws::handle(&req, body).map_err(|e| {
        ApiError::new(
            ErrorCode::BadMessage,
            format!("not a WebSocket upgrade: {e}"),
        )
    })?;
    if ours {
        // A browser refuses an upgrade that does not name one of its offers.
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            header::HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    let stream = stream
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);
    let (response, out) = outbound::attach(response, session::OUTBOUND_CAPACITY);
    let session = session::Session::new(
        engine.get_ref().clone(),
        principal,
        limits.get_ref().clone(),
        out,
    );
    actix_web::rt::spawn(session.run(stream));
    Ok(response)
}
