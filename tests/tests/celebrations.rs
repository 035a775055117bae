//! Celebrations through the real server: fired over REST, the WebSocket, the
//! MQTT command topic and by a rule on an MQTT input (real mosquitto), each
//! seen on the E1.31 wire, then the canvas handed back to what it showed.

use anyhow::{Result, ensure};
use futures_util::SinkExt;
use limelight_tests::{Broker, DataPacket, Receiver, TestApp};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// The red and blue of the first pixel of a packet.
fn first(p: &DataPacket) -> (u8, u8) {
    (
        p.slots.first().copied().unwrap_or(0),
        p.slots.get(2).copied().unwrap_or(0),
    )
}

const GOLD: (u8, u8) = (255, 0);
const BLUE: (u8, u8) = (0, 255);

/// A canvas sending to `rx` showing `blue` (taken by hand until released), and
/// the scenes `blue` and `gold`; its id.
async fn stage(app: &TestApp, admin: &str, rx: &Receiver) -> Result<i64> {
    let canvas = app.canvas_to(admin, "atrium", 10, 40, rx).await?;
    app.solid_scene(admin, "blue", "#0000FF").await?;
    app.solid_scene(admin, "gold", "#FFC000").await?;
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{canvas}/scene"),
            Some(admin),
            Some(json!({"scene": "blue", "scope": "until_released"})),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    Ok(canvas)
}

fn goal(canvas: i64) -> Value {
    json!({"name": "goal", "play": {"scene": "gold"}, "canvases": [canvas],
           "duration_ms": 1000, "cooldown_ms": 2500})
}

#[actix_rt::test]
async fn a_fired_celebration_plays_for_its_time_then_hands_the_canvas_back_and_cools_down()
-> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let canvas = stage(&app, &admin, &rx).await?;
    rx.until(Duration::from_secs(2), |p| first(p) == BLUE)
        .await?;

    // Bad celebrations are refused and nothing is kept.
    let operator = app.user("op", "operator").await?;
    let marketing = app.user("mk", "marketing").await?;
    let attendee = app.user("guest", "attendee").await?;
    let mut unknown_scene = goal(canvas);
    unknown_scene["play"]["scene"] = json!("nowhere");
    let mut unknown_canvas = goal(canvas);
    unknown_canvas["canvases"] = json!([canvas + 100]);
    let mut too_short = goal(canvas);
    too_short["duration_ms"] = json!(100);
    for (who, body, status, code) in [
        (&admin, unknown_scene, 404, "unknown_scene"),
        (&admin, unknown_canvas, 404, "unknown_canvas"),
        (&admin, too_short, 422, "validation_failed"),
        (&operator, goal(canvas), 403, "forbidden"),
    ] {
        app.refused(
            "POST",
            "/api/v1/celebrations",
            who,
            Some(body),
            status,
            code,
        )
        .await?;
    }
    app.refused(
        "GET",
        "/api/v1/celebrations",
        &attendee,
        None,
        403,
        "forbidden",
    )
    .await?;
    let listed = app.get(&admin, "/api/v1/celebrations").await?;
    ensure!(listed.as_array().is_some_and(Vec::is_empty), "{listed}");

    let id = app
        .created("/api/v1/celebrations", &marketing, goal(canvas))
        .await?;
    let path = format!("/api/v1/celebrations/{id}/fire");
    app.refused("POST", &path, &marketing, None, 403, "forbidden")
        .await?;
    let mut console = limelight_tests::connect(&app, &operator).await?;
    limelight_tests::next_of(&mut console, "snapshot").await?;

    let (status, fired) = app.call("POST", &path, Some(&operator), None).await?;
    ensure!(
        status == 200 && fired["canvases"] == json!([canvas]),
        "{status} {fired}"
    );
    let at = Instant::now();
    rx.until(Duration::from_secs(1), |p| first(p) == GOLD)
        .await?;
    let heard = limelight_tests::next_of(&mut console, "celebration").await?;
    ensure!(
        heard["fired"]["name"] == "goal" && heard["fired"]["by"] == "op",
        "{heard}"
    );
    // Fired again while it plays (and cools down): refused, nothing changes.
    app.refused("POST", &path, &operator, None, 409, "cooling_down")
        .await?;
    // After its second, blue again: the override the canvas had before.
    let back = rx
        .until(Duration::from_secs(3), |p| first(p) == BLUE)
        .await?;
    let played = back.at.saturating_duration_since(at);
    ensure!(
        played >= Duration::from_millis(900) && played <= Duration::from_millis(1600),
        "gold for {played:?}"
    );
    let overrides = app.get(&admin, "/api/v1/overrides").await?;
    ensure!(
        overrides
            .as_array()
            .is_some_and(|o| o.iter().any(|o| o["canvas"] == canvas
                && o["play"]["scene"] == "blue"
                && o["scope"] == "until_released")),
        "{overrides}"
    );
    let shown = app
        .get(&admin, &format!("/api/v1/celebrations/{id}"))
        .await?;
    ensure!(
        shown["fired_at"].is_string() && shown["cooldown_left_ms"].as_u64() > Some(0),
        "{shown}"
    );

    // Over the WebSocket once the cooldown is over; audited as who fired it.
    let celebration = format!("/api/v1/celebrations/{id}");
    app.get_when(&admin, &celebration, Duration::from_secs(10), |c| {
        c["cooldown_left_ms"] == 0
    })
    .await?;
    console
        .send(Message::Text(
            json!({"type": "fire_celebration", "request_id": "f1", "celebration": id})
                .to_string()
                .into(),
        ))
        .await?;
    let ack =
        limelight_tests::next_where(&mut console, "ack f1", |m| m["request_id"] == "f1").await?;
    ensure!(ack["type"] == "ack", "{ack}");
    rx.until(Duration::from_secs(1), |p| first(p) == GOLD)
        .await?;
    let audit = app.get(&admin, "/api/v1/audit?limit=50").await?;
    let fires = audit["items"].as_array().map_or(0, |items| {
        items
            .iter()
            .filter(|e| e["action"] == "celebration.fire" && e["username"] == "op")
            .count()
    });
    ensure!(fires == 3, "two fires and one refusal audited: {audit}");
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_rule_on_an_input_and_the_mqtt_command_topic_fire_celebrations() -> Result<()> {
    let broker = Broker::start()?;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let canvas = stage(&app, &admin, &rx).await?;
    let input = app
        .created(
            "/api/v1/inputs",
            &admin,
            json!({"name": "lobby", "kind": "mqtt", "broker": broker.url(), "bindings":
                [{"name": "lobby_level", "topic": "venue/lobby/presence", "pointer": "/level",
                  "range": [0, 100]}]}),
        )
        .await?;
    app.input_state_when(&admin, input, Duration::from_secs(10), |s| {
        s["connection"] == "connected"
    })
    .await?;
    let mut crowd = goal(canvas);
    crowd["name"] = json!("crowd");
    crowd["duration_ms"] = json!(800);
    crowd["rule"] = json!({"input": "lobby_level", "above": 0.8});
    let id = app.created("/api/v1/celebrations", &admin, crowd).await?;

    rx.until(Duration::from_secs(2), |p| first(p) == BLUE)
        .await?;
    broker.publish("venue/lobby/presence", br#"{"level": 50}"#)?;
    // Once the rule has read 0.5, nothing has fired and the canvas stays blue.
    let path = format!("/api/v1/celebrations/{id}");
    let read = app
        .get_when(&admin, &path, Duration::from_secs(10), |c| {
            c["rule_value"] == 0.5
        })
        .await?;
    ensure!(read["fired_at"].is_null(), "below the threshold: {read}");
    let now = Instant::now();
    let later = rx.until(Duration::from_secs(1), |p| p.at >= now).await?;
    ensure!(first(&later) == BLUE, "below the threshold: nothing fires");
    broker.publish("venue/lobby/presence", br#"{"level": 90}"#)?;
    rx.until(Duration::from_secs(2), |p| first(p) == GOLD)
        .await?;
    rx.until(Duration::from_secs(3), |p| first(p) == BLUE)
        .await?;
    let audit = app.get(&admin, "/api/v1/audit?limit=20").await?;
    ensure!(
        audit["items"].as_array().is_some_and(|items| items
            .iter()
            .any(|e| e["action"] == "celebration.fire" && e["username"] == "rule:lobby_level")),
        "{audit}"
    );
    let env = app.stop().await;

    // The command topic fires it as its configured user.
    let mut config = env.config();
    config.mqtt.url = Some(broker.url());
    config.mqtt.commands = true;
    config.mqtt.command_user = Some("admin".into());
    let app = TestApp::spawn_with(env, config).await?;
    let answer = broker
        .command_answer(&json!({"type": "fire_celebration", "request_id": "m1", "celebration": id}))
        .await?;
    ensure!(
        answer["type"] == "ack" && answer["request_id"] == "m1",
        "{answer}"
    );
    rx.until(Duration::from_secs(2), |p| first(p) == GOLD)
        .await?;
    app.stop().await;
    Ok(())
}
