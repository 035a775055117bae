//! The operator WebSocket through the real server.

use anyhow::{Context, Result, anyhow, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use limelight_shared::ids::CanvasId;
use limelight_tests::{Receiver, TestApp, connect, connect_stalled, metric, next_binary, next_of};
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

    // The canvas kept its frames meanwhile, and still sends. A console that held
    // the canvas up would cost it every frame while it stalled; the odd frame a
    // loaded two-core machine takes from the canvas thread is not that.
    let state = app.server.engine().state(CanvasId(id)).await?;
    ensure!(state.frames_skipped * 100 <= state.frames_sent, "{state:?}");
    rx.next_data(Duration::from_secs(2)).await?;
    Ok(())
}

#[actix_rt::test]
async fn raster_previews_put_each_pixel_where_the_geometry_places_it() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    // A serpentine 8 x 4 matrix: the wire's second row runs right to left.
    let (status, canvas) = app
        .call(
            "POST",
            "/api/v1/canvases",
            Some(&admin),
            Some(json!({"name": "Grid", "fps": 40,
                "geometry": {"kind": "matrix", "width": 8, "height": 4, "serpentine": true},
                "output": {"universe": 1, "destinations": [rx.dest()?]}})),
        )
        .await?;
    ensure!(status == 201, "{status} {canvas}");
    let id = canvas["id"].as_i64().unwrap_or_default();
    app.created(
        "/api/v1/scenes",
        &admin,
        json!({"name": "ramp", "layers": [
            {"effect": "gradient", "colors": ["#000000", "#FFFFFF"]},
            {"effect": "solid", "color": "#FF0000",
             "region": {"x": 0, "y": 0, "width": 2, "height": 2}}]}),
    )
    .await?;
    let (status, body) = app.trigger(&admin, id, "ramp").await?;
    ensure!(status == 200, "{status} {body}");
    let wire = rx
        .until(Duration::from_secs(5), |p| {
            p.slots.len() >= 96 && p.slots[..3] == [255, 0, 0]
        })
        .await?
        .slots;

    let operator = app.user("op", "operator").await?;
    let mut ws = connect(&app, &operator).await?;
    next_of(&mut ws, "snapshot").await?;
    ws.send(Message::Text(
        json!({"type": "subscribe_preview", "request_id": "p", "canvases": [id], "format": 2})
            .to_string()
            .into(),
    ))
    .await?;
    next_of(&mut ws, "ack").await?;
    let frame = next_binary(&mut ws).await?;
    ensure!(frame[0] == 2 && i64::from_be_bytes(frame[1..9].try_into()?) == id);
    let (w, h) = (
        u32::from_be_bytes(frame[17..21].try_into()?),
        u32::from_be_bytes(frame[21..25].try_into()?),
    );
    ensure!((w, h) == (8, 4) && frame.len() == 25 + 32 * 4, "{w}x{h}");
    let cells = &frame[25..];
    for i in 0..32 {
        let (row, step) = (i / 8, i % 8);
        let x = if row % 2 == 1 { 7 - step } else { step };
        let cell = &cells[(row * 8 + x) * 4..][..4];
        ensure!(
            cell[..3] == wire[i * 3..i * 3 + 3] && cell[3] == 255,
            "pixel {i} at ({x}, {row}): preview {cell:?}, wire {:?}",
            &wire[i * 3..i * 3 + 3]
        );
    }
    // The red rectangle is the top-left 2 x 2 cells; the ramp runs across x.
    ensure!(cells[..4] == [255, 0, 0, 255] && cells[(8 + 1) * 4..][..4] == [255, 0, 0, 255]);
    ensure!(cells[7 * 4] == 255 && cells[2 * 4] < cells[5 * 4]);

    // Strips in an L: cells where no pixel is are transparent.
    let (status, strips) = app
        .call(
            "POST",
            "/api/v1/canvases",
            Some(&admin),
            Some(json!({"name": "Corner", "fps": 40,
                "geometry": {"kind": "strips", "strips": [
                    {"from": [0, 0], "to": [4, 0], "pixels": 5},
                    {"from": [0, 1], "to": [0, 4], "pixels": 4}]},
                "output": {"universe": 9, "destinations": ["127.0.0.1:9"]}})),
        )
        .await?;
    ensure!(status == 201 && strips["pixels"] == 9, "{status} {strips}");
    let corner = strips["id"].as_i64().unwrap_or_default();
    app.solid_scene(&admin, "white", "#FFFFFF").await?;
    let (status, body) = app.trigger(&admin, corner, "white").await?;
    ensure!(status == 200, "{status} {body}");
    ws.send(Message::Text(
        json!({"type": "subscribe_preview", "request_id": "q", "canvases": [corner], "format": 2})
            .to_string()
            .into(),
    ))
    .await?;
    next_of(&mut ws, "ack").await?;
    let frame = loop {
        let f = next_binary(&mut ws).await?;
        if f[25..].chunks(4).any(|c| c == [255, 255, 255, 255]) {
            break f;
        }
    };
    ensure!(
        frame[17..25] == [0, 0, 0, 5, 0, 0, 0, 5],
        "{:?}",
        &frame[17..25]
    );
    let lit: Vec<bool> = frame[25..].chunks(4).map(|c| c[3] == 255).collect();
    let expected: Vec<bool> = (0..25).map(|c| c < 5 || c % 5 == 0).collect();
    ensure!(lit == expected, "{lit:?}");

    // An unknown layout is refused.
    ws.send(Message::Text(
        json!({"type": "subscribe_preview", "request_id": "r", "canvases": [corner], "format": 3})
            .to_string()
            .into(),
    ))
    .await?;
    let err = next_of(&mut ws, "error").await?;
    ensure!(
        err["request_id"] == "r" && err["code"] == "validation_failed",
        "{err}"
    );
    Ok(())
}
