//! A session's live room over REST: its snapshot for anyone who may see the
//! session, and moderation for staff. Attendees take part over the WebSocket.

use crate::auth::{Auth, Permission};
use crate::body::Json;
use crate::error::ApiError;
use actix_web::{HttpResponse, web};
use limelight_engine::EngineHandle;
use limelight_engine::{RoomCommand, RoomDone};
use limelight_shared::ids::SessionId;
use limelight_shared::room::{Moderate, NewPoll, SetPollStatus};

fn shown(done: RoomDone) -> HttpResponse {
    match done {
        RoomDone::Message(m) => HttpResponse::Ok().json(m),
        RoomDone::Poll(p) => HttpResponse::Ok().json(p),
        RoomDone::Question(q) => HttpResponse::Ok().json(q),
        RoomDone::Voted => HttpResponse::NoContent().finish(),
    }
}

/// `GET /api/v1/sessions/{id}/room`: who is present, recent chat, polls with
/// results, questions in order.
pub async fn snapshot(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::Browse)?;
    let room = engine
        .room_snapshot(SessionId(*id), auth.published_only())
        .await?;
    Ok(HttpResponse::Ok().json(room))
}

/// `POST /api/v1/sessions/{id}/room/polls`: 201 with the poll; `POLL_CREATED`
/// goes to the room.
pub async fn create_poll(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    id: web::Path<i64>,
    body: Json<NewPoll>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageEvents)?;
    let command = RoomCommand::CreatePoll(body.into_inner());
    match engine
        .room_command(who, SessionId(*id), command, None)
        .await?
    {
        RoomDone::Poll(p) => Ok(HttpResponse::Created().json(p)),
        other => Ok(shown(other)),
    }
}

/// `POST /api/v1/sessions/{id}/room/polls/{poll}/status`: `{"status": "open"}` or
/// `"closed"`.
pub async fn poll_status(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    path: web::Path<(i64, String)>,
    body: Json<SetPollStatus>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageEvents)?;
    let (session, poll) = path.into_inner();
    let command = RoomCommand::SetPollStatus {
        poll,
        status: body.status,
    };
    let done = engine
        .room_command(who, SessionId(session), command, None)
        .await?;
    Ok(shown(done))
}

/// Apply a moderator's `action` to the room item `path.1` of session `path.0`.
async fn moderate(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    path: web::Path<(i64, String)>,
    command: impl FnOnce(String) -> RoomCommand,
) -> Result<HttpResponse, ApiError> {
    let who = auth.require(Permission::ManageEvents)?;
    let (session, id) = path.into_inner();
    let done = engine
        .room_command(who, SessionId(session), command(id), None)
        .await?;
    Ok(shown(done))
}

/// `POST /api/v1/sessions/{id}/room/messages/{message}/moderate`: delete, pin or
/// unpin a chat message.
pub async fn moderate_message(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    path: web::Path<(i64, String)>,
    body: Json<Moderate>,
) -> Result<HttpResponse, ApiError> {
    let action = body.action;
    moderate(auth, engine, path, |id| RoomCommand::ModerateMessage {
        id,
        action,
    })
    .await
}

/// `POST /api/v1/sessions/{id}/room/questions/{question}/moderate`: pin, unpin or
/// mark answered.
pub async fn moderate_question(
    auth: Auth,
    engine: web::Data<EngineHandle>,
    path: web::Path<(i64, String)>,
    body: Json<Moderate>,
) -> Result<HttpResponse, ApiError> {
    let action = body.action;
    moderate(auth, engine, path, |id| RoomCommand::ModerateQuestion {
        id,
        action,
    })
    .await
}
