//! The operator WebSocket through the real server.

use anyhow::{Context, Result, anyhow, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use limelight_shared::ids::CanvasId;
use limelight_tests::{Receiver, TestApp, connect, connect_stalled, metric, next_of};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[actix_rt::test]
async fn consoles_get_a_snapshot_acks_and_state_changes() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let id = app.canvas_to(&admin, "Console", 20, 40, &rx).await?;
    app.solid_scene(&admin, "orange", "#FF8000").await?;
    let operator = app.user("op", "operator").await?;

    let mut ws = connect(&app, &operator).await?;
    let welcome = next_of(&mut ws, "welcome").await?;
    ensure!(
        welcome["protocol"] == 1 && welcome["role"] == "operator",
        "{welcome}"
    );
    let snapshot = next_of(&mut ws, "snapshot").await?;
    ensure!(
        snapshot["canvases"][0]["id"] == id && snapshot["grand_master"] == 100.0,
        "{snapshot}"
    );

    // A second console sees the first one's change.
    let mut watcher = connect(&app, &admin).await?;
    next_of(&mut watcher, "snapshot").await?;

    ws.send(Message::Text(json!({"type": "trigger_scene", "request_id": "r1", "canvas": id, "scene": "orange", "fade_ms": 0}).to_string().into()))
        .await?;
    let ack = next_of(&mut ws, "ack").await?;
    ensure!(
        ack["request_id"] == "r1" && ack["canvas"]["scene"] == "orange",
        "{ack}"
    );
    let change = next_of(&mut watcher, "canvas_state").await?;
    ensure!(change["canvas"]["scene"] == "orange", "{change}");
    rx.until(Duration::from_secs(3), |p| {
        p.slots.starts_with(&[255, 128, 0])
    })
    .await?;

    ws.send(Message::Text(
        json!({"type": "trigger_scene", "request_id": "r2", "canvas": id, "scene": "nope"})
            .to_string()
            .into(),
    ))
    .await?;
    let err = next_of(&mut ws, "error").await?;
    ensure!(
        err["request_id"] == "r2" && err["code"] == "unknown_scene",
        "{err}"
    );

    ws.send(Message::Text(
        json!({"type": "master", "request_id": "r3", "canvas": id, "level": 101})
            .to_string()
            .into(),
    ))
    .await?;
    let err = next_of(&mut ws, "error").await?;
    ensure!(
        err["request_id"] == "r3" && err["code"] == "validation_failed",
        "{err}"
    );

    ws.send(Message::Text("not json".into())).await?;
    let err = next_of(&mut ws, "error").await?;
    ensure!(
        err["code"] == "invalid_json"
            && err["message"]
                .as_str()
                .is_some_and(|m| m.contains("line 1 column")),
        "{err}"
    );

    // Live preview: binary frames of the canvas, header then RGB.
    ws.send(Message::Text(
        json!({"type": "subscribe_preview", "request_id": "p", "canvases": [id], "fps": 10})
            .to_string()
            .into(),
    ))
    .await?;
    next_of(&mut ws, "ack").await?;
    let frame = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await?
            .ok_or_else(|| anyhow!("closed"))??
        {
            Message::Binary(b) => break b,
            _ => continue,
        }
    };
    ensure!(frame[0] == 1 && i64::from_be_bytes(frame[1..9].try_into()?) == id);
    ensure!(u32::from_be_bytes(frame[17..21].try_into()?) == 20 && frame.len() == 21 + 60);
    ensure!(frame[21..24] == [255, 128, 0]);
    Ok(())
}

#[actix_rt::test]
async fn marketing_cannot_control_and_bad_tokens_cannot_connect() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let id = app.idle_canvas(&admin, "Guarded").await?;
    let marketing = app.user("mk", "marketing").await?;
    let mut ws = connect(&app, &marketing).await?;
    next_of(&mut ws, "snapshot").await?;
    ws.send(Message::Text(
        json!({"type": "blackout", "request_id": "b", "canvas": id, "on": true})
            .to_string()
            .into(),
    ))
    .await?;
    let err = next_of(&mut ws, "error").await?;
    ensure!(
        err["code"] == "forbidden" && err["request_id"] == "b",
        "{err}"
    );

    match connect(&app, "garbage").await {
        Ok(_) => bail!("a bad token connected"),
        Err(e) => ensure!(e.to_string().contains("401"), "{e}"),
    }
    Ok(())
}

#[actix_rt::test]
async fn a_console_that_cannot_keep_up_is_dropped_and_slows_nothing() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let id = app.canvas_to(&admin, "Busy", 20_000, 40, &rx).await?;
    let operator = app.user("op", "operator").await?;
    let mut stalled = connect_stalled(&app, &operator).await?;
    let mut watcher = connect(&app, &operator).await?;
    next_of(&mut watcher, "snapshot").await?;
    // 60 KB previews at 30 fps fill the stalled console's socket...
    stalled
        .send(Message::Text(
            json!({"type": "subscribe_preview", "request_id": "p", "canvases": [id], "fps": 30})
                .to_string()
                .into(),
        ))
        .await?;

    // ...then state changes fill its queue (256 messages) while the watcher gets
    // every one.
    let dropped_before = metric(&app.metrics().await?, "limelight_ws_dropped_slow_total");
    let mut sent = 0;
    loop {
        for _ in 0..100 {
            let level = f64::from(sent % 100);
            let (status, body) = app
                .call(
                    "POST",
                    &format!("/api/v1/canvases/{id}/master"),
                    Some(&operator),
                    Some(json!({"level": level})),
                )
                .await?;
            ensure!(status == 200, "{status} {body}");
            next_of(&mut watcher, "canvas_state").await?;
            sent += 1;
        }
        if metric(&app.metrics().await?, "limelight_ws_dropped_slow_total") > dropped_before {
            break;
        }
        ensure!(sent < 3000, "the stalled console was never dropped");
    }

    // Its close frame (1008 "slow consumer") waits behind the bytes it never read,
    // so a console that reads nothing sees the connection reset once the server
    // stops waiting (1 s); one that reads its backlog gets the frame.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, stalled.next())
            .await
            .context("the stalled console's connection did not end")?;
        match msg {
            Some(Ok(Message::Close(frame))) => {
                let frame = frame.ok_or_else(|| anyhow!("close frame without a reason"))?;
                ensure!(
                    u16::from(frame.code) == 1008 && frame.reason.contains("slow consumer"),
                    "{frame:?}"
                );
                break;
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => break,
        }
    }

    // The canvas never missed a frame meanwhile, and still sends.
    let state = app.server.engine().state(CanvasId(id)).await?;
    ensure!(state.frames_skipped == 0, "{state:?}");
    rx.next_data(Duration::from_secs(2)).await?;
    Ok(())
}
