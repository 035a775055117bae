//! Live control as the WebSocket and the MQTT command topic carry it: the same
//! messages, the same permission check, the same engine calls, the same answers.

use crate::auth::Permission;
use crate::error::ApiError;
use limelight_engine::{EngineHandle, Principal};
use limelight_shared::control::TriggerScene;
use limelight_shared::error::ErrorCode;
use limelight_shared::ws::{ClientMessage, ServerMessage};

/// Carry out `message` as `who` if it is a live-control command (scenes,
/// overrides, cues, the schedule's next entry, blackout, masters, emergency);
/// any other message comes back untouched.
pub async fn control(
    engine: &EngineHandle,
    who: &Principal,
    message: ClientMessage,
) -> Result<Result<ServerMessage, ClientMessage>, ApiError> {
    let live = |principal: &Principal| {
        if principal.may(Permission::LiveControl) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("role {} may not control canvases", principal.role.as_str()),
            ))
        }
    };
    let ack = |request_id: String, canvas| ServerMessage::Ack { request_id, canvas };
    Ok(Ok(match message {
        ClientMessage::TriggerScene {
            request_id,
            canvas,
            scene,
            fade_ms,
            curve,
            scope,
        } => {
            live(who)?;
            let cmd = TriggerScene {
                scene,
                fade_ms,
                curve,
                scope,
            };
            ack(
                request_id,
                Some(engine.trigger_scene(who, canvas, &cmd).await?),
            )
        }
        ClientMessage::ReleaseOverride {
            request_id,
            canvas,
            fade_ms,
        } => {
            live(who)?;
            ack(
                request_id,
                Some(engine.release_override(who, canvas, fade_ms).await?),
            )
        }
        ClientMessage::Cue {
            request_id,
            canvas,
            command,
        } => {
            live(who)?;
            ack(request_id, Some(engine.cue(who, canvas, &command).await?))
        }
        ClientMessage::StartNextEntry { request_id, canvas } => {
            live(who)?;
            ack(
                request_id,
                Some(engine.advance_schedule(who, canvas).await?),
            )
        }
        ClientMessage::Blackout {
            request_id,
            canvas,
            on,
        } => {
            live(who)?;
            ack(
                request_id,
                Some(engine.set_blackout(who, canvas, on).await?),
            )
        }
        ClientMessage::Master {
            request_id,
            canvas,
            level,
        } => {
            live(who)?;
            ack(
                request_id,
                Some(engine.set_master(who, canvas, level).await?),
            )
        }
        ClientMessage::Emergency {
            request_id,
            canvas,
            on,
        } => {
            live(who)?;
            ack(
                request_id,
                Some(engine.set_emergency(who, canvas, on).await?),
            )
        }
        ClientMessage::GrandMaster { request_id, level } => {
            live(who)?;
            engine.set_grand_master(who, level).await?;
            ack(request_id, None)
        }
        ClientMessage::FireCelebration {
            request_id,
            celebration,
        } => {
            live(who)?;
            engine.fire_celebration(who, celebration).await?;
            ack(request_id, None)
        }
        other => return Ok(Err(other)),
    }))
}
