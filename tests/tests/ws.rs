//! The operator WebSocket through the real server.

use anyhow::{Context, Result, anyhow, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use limelight_tests::{Receiver, TestApp};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: &str) -> Result<Ws> {
    let url = format!("ws://{}/api/v1/ws?token={token}", app.server.addr());
    Ok(tokio_tungstenite::connect_async(url).await?.0)
}

/// The next JSON message of type `kind`, passing over others.
async fn next_of(ws: &mut Ws, kind: &str) -> Result<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .context("no WebSocket message in time")?
            .ok_or_else(|| anyhow!("socket closed"))??;
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text)?;
            if v["type"] == kind {
                return Ok(v);
            }
        }
    }
}

#[actix_rt::test]
async fn consoles_get_a_snapshot_acks_and_state_changes() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let id = app
        .canvas(
            &admin,
            "Console",
            20,
            40,
            json!({"universe": 1, "destinations": [rx.dest()?]}),
        )
        .await?;
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
        err["request_id"] == "r3" && err["code"] == "bad_message",
        "{err}"
    );

    ws.send(Message::Text("not json".into())).await?;
    ensure!(next_of(&mut ws, "error").await?["code"] == "bad_message");

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
    let id = app
        .canvas(
            &admin,
            "Guarded",
            10,
            10,
            json!({"universe": 1, "destinations": ["127.0.0.1:9"]}),
        )
        .await?;
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
