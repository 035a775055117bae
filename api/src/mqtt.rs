//! The MQTT command topic: the WebSocket's live-control messages, carried out as
//! the configured user (with that user's role, audited like any command) and
//! answered on `<prefix>/command/result` with the WebSocket's `ack` or `error`.

use crate::error::ApiError;
use limelight_engine::{EngineHandle, MqttCommands};
use limelight_shared::error::ErrorCode;
use limelight_shared::ws::{ClientMessage, ServerMessage};

/// Carry out the commands of `commands` as `user` for as long as they come.
pub async fn serve(engine: EngineHandle, mut commands: MqttCommands, user: String) {
    while let Some(payload) = commands.next().await {
        let reply = match answer(&engine, &user, &payload).await {
            Ok(reply) => reply,
            Err((request_id, e)) => ServerMessage::Error {
                request_id,
                code: e.code,
                message: e.message,
            },
        };
        commands.reply(serde_json::to_string(&reply).unwrap_or_default());
    }
}

async fn answer(
    engine: &EngineHandle,
    user: &str,
    payload: &[u8],
) -> Result<ServerMessage, (Option<String>, ApiError)> {
    let message: ClientMessage = crate::body::parse(payload).map_err(|e| {
        let id = serde_json::from_slice::<serde_json::Value>(payload)
            .ok()
            .and_then(|v| v.get("request_id")?.as_str().map(str::to_owned));
        (id, e)
    })?;
    let request_id = Some(message.request_id().to_owned());
    let fail = |e: ApiError| (request_id.clone(), e);
    // Read each time: a changed role or a removed user counts from the next command.
    let who = engine
        .principal_named(user)
        .await
        .map_err(|e| fail(ApiError::from(e)))?;
    match crate::ws::control(engine, &who, message).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(_)) => Err(fail(ApiError::new(
            ErrorCode::BadMessage,
            "the MQTT command topic takes live-control commands only",
        ))),
        Err(e) => Err(fail(e)),
    }
}
