//! Inputs through the real server and a real broker: values published with
//! `mosquitto_pub` to Debian's `mosquitto` drive layers on the E1.31 wire.

use anyhow::{Result, bail, ensure};
use limelight_tests::{Broker, Receiver, TestApp, TestPki, metric};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The documented example input, on `broker`.
fn lobby(broker: &Broker) -> Value {
    json!({"name": "lobby", "kind": "mqtt", "broker": broker.url(), "bindings":
        [{"name": "lobby_level", "topic": "venue/lobby/presence", "pointer": "/level",
          "range": [0, 100], "expire_after_ms": 1500, "fallback": 0}]})
}

/// A 10-pixel canvas at 40 fps sending to `rx`, showing a red solid whose opacity
/// is the input value `lobby_level`; its id.
async fn bound_canvas(app: &TestApp, admin: &str, rx: &Receiver) -> Result<i64> {
    let canvas = app.canvas_to(admin, "lobby wall", 10, 40, rx).await?;
    let scene = json!({"name": "presence", "layers": [
        {"effect": "solid", "color": "#FF0000", "opacity": {"input": "lobby_level"}}]});
    let (status, body) = app
        .call("POST", "/api/v1/scenes", Some(admin), Some(scene))
        .await?;
    ensure!(status == 201, "{status} {body}");
    let (status, body) = app.trigger(admin, canvas, "presence").await?;
    ensure!(status == 200, "{status} {body}");
    Ok(canvas)
}

/// A running lobby: a broker, a server, a canvas whose red is `lobby_level`
/// (which never expires), the input connected, and `level` published and on the
/// wire as `red`.
struct Lobby {
    broker: Broker,
    app: TestApp,
    admin: String,
    rx: Receiver,
    canvas: i64,
    input: i64,
}

impl Lobby {
    async fn start(level: u32, red: u8) -> Result<Self> {
        let broker = Broker::start()?;
        let app = TestApp::spawn().await?;
        let admin = app.admin().await?;
        let mut rx = Receiver::bind().await?;
        let canvas = bound_canvas(&app, &admin, &rx).await?;
        let mut spec = lobby(&broker);
        spec["bindings"][0]["expire_after_ms"] = Value::Null;
        let input = app.created("/api/v1/inputs", &admin, spec).await?;
        app.input_state_when(&admin, input, Duration::from_secs(10), connected)
            .await?;
        broker.publish(
            "venue/lobby/presence",
            format!("{{\"level\": {level}}}").as_bytes(),
        )?;
        rx.until(Duration::from_secs(2), |p| self::red(p) == red)
            .await?;
        Ok(Self {
            broker,
            app,
            admin,
            rx,
            canvas,
            input,
        })
    }
}

fn connected(state: &Value) -> bool {
    state["connection"] == "connected"
}

/// The red of the first pixel of a packet.
fn red(p: &limelight_tests::DataPacket) -> u8 {
    p.slots.first().copied().unwrap_or(0)
}

#[actix_rt::test]
async fn a_published_value_reaches_the_wire_and_silence_past_expiry_gives_the_fallback()
-> Result<()> {
    let broker = Broker::start()?;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    bound_canvas(&app, &admin, &rx).await?;
    let input = app
        .created("/api/v1/inputs", &admin, lobby(&broker))
        .await?;
    app.input_state_when(&admin, input, Duration::from_secs(10), connected)
        .await?;
    // No message yet: the fallback (0) shows.
    rx.until(Duration::from_secs(2), |p| red(p) == 0).await?;

    broker.publish("venue/lobby/presence", br#"{"level": 50}"#)?;
    let sent = Instant::now();
    let half = rx.until(Duration::from_secs(2), |p| red(p) != 0).await?;
    // 50 of 0..100 is half opacity: 127.5, rounded half up.
    ensure!(red(&half) == 128, "{:?}", &half.slots[..3]);
    let state = app
        .get(&admin, &format!("/api/v1/inputs/{input}/state"))
        .await?;
    let value = &state["values"][0];
    ensure!(
        value["name"] == "lobby_level" && value["value"] == 0.5,
        "{state}"
    );
    ensure!(value["raw"] == 50.0 && value["stale"] == false && value["messages"] == 1);
    ensure!(state["messages"] == 1, "{state}");

    // 1.5 s without a message: the value expires and the fallback is on the wire.
    let dark = rx.until(Duration::from_secs(4), |p| red(p) == 0).await?;
    let after = dark.at.duration_since(sent);
    ensure!(
        after >= Duration::from_millis(1400) && after <= Duration::from_millis(2500),
        "the fallback came {after:?} after the message"
    );
    let state = app
        .get(&admin, &format!("/api/v1/inputs/{input}/state"))
        .await?;
    ensure!(state["values"][0]["stale"] == true, "{state}");
    ensure!(
        state["values"][0]["age_ms"].as_u64() >= Some(1500),
        "{state}"
    );
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn after_the_broker_restarts_the_input_reconnects_resubscribes_and_values_flow_again()
-> Result<()> {
    let Lobby {
        mut broker,
        app,
        admin,
        mut rx,
        input,
        ..
    } = Lobby::start(20, 51).await?;

    broker.stop()?;
    let lost = app
        .input_state_when(&admin, input, Duration::from_secs(15), |s| {
            s["connection"] == "reconnecting"
        })
        .await?;
    ensure!(lost["reconnects"].as_u64() >= Some(1), "{lost}");
    ensure!(lost["last_error"].is_string(), "{lost}");
    // Without a broker the last value holds (this binding never expires).
    rx.until(Duration::from_secs(1), |p| red(p) == 51).await?;

    broker.restart()?;
    // Backoff: 0.5 s doubling; a few attempts fail while the broker was down.
    app.input_state_when(&admin, input, Duration::from_secs(40), connected)
        .await?;
    // A clean session: the broker forgot the subscription; it was made again.
    broker.publish("venue/lobby/presence", br#"{"level": 100}"#)?;
    rx.until(Duration::from_secs(2), |p| red(p) == 255).await?;
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn bad_payloads_are_counted_and_change_nothing_and_a_storm_skips_no_frame() -> Result<()> {
    let Lobby {
        broker,
        app,
        admin,
        mut rx,
        canvas,
        input,
    } = Lobby::start(40, 102).await?;

    let topic = "venue/lobby/presence";
    broker.publish(topic, b"not json at all")?;
    broker.publish(topic, br#"{"level": "high"}"#)?;
    broker.publish(topic, br#"{"other": 1}"#)?;
    broker.publish(topic, br#"{"level": 1e999}"#)?;
    let state = app
        .input_state_when(&admin, input, Duration::from_secs(5), |s| {
            s["messages"] == 5
        })
        .await?;
    let refused = &state["refused"];
    ensure!(
        refused["not_json"] == 2 && refused["not_a_number"] == 2,
        "{state}"
    );
    ensure!(state["values"][0]["value"] == 0.4, "{state}");

    // Bigger than the packet limit: refused by the client, which reconnects.
    broker.publish(topic, &vec![b'7'; 100 * 1024])?;
    let state = app
        .input_state_when(&admin, input, Duration::from_secs(10), |s| {
            s["refused"]["too_large"] == 1 && connected(s)
        })
        .await?;
    ensure!(state["values"][0]["value"] == 0.4, "{state}");

    // A storm: 10,000 messages as fast as one publisher sends them, the last one
    // saying 100.
    let skipped = format!("limelight_canvas_frames_skipped_total{{canvas=\"{canvas}\"");
    let frames = metric(&app.metrics().await?, &skipped);
    let mut lines = String::new();
    for i in 0..9_999 {
        lines.push_str(&format!("{{\"level\": {}}}\n", i % 100));
    }
    lines.push_str("{\"level\": 100}\n");
    let started = Instant::now();
    broker.publish_lines(topic, &lines)?;
    rx.until(Duration::from_secs(10), |p| red(p) == 255).await?;
    let took = started.elapsed();
    let state = app
        .get(&admin, &format!("/api/v1/inputs/{input}/state"))
        .await?;
    ensure!(state["restarts"] == 0, "{state}");
    let after = metric(&app.metrics().await?, &skipped);
    ensure!(
        after == frames,
        "frames skipped during the storm: {frames:?} -> {after:?} ({took:?}, {state})"
    );
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_panicking_input_restarts_and_the_canvas_keeps_its_value() -> Result<()> {
    let Lobby {
        broker,
        app,
        admin,
        mut rx,
        input,
        ..
    } = Lobby::start(60, 153).await?;

    broker.publish(
        "venue/lobby/presence",
        limelight_engine::INPUT_PANIC_PAYLOAD,
    )?;
    app.input_state_when(&admin, input, Duration::from_secs(10), |s| {
        s["restarts"] == 1 && connected(s)
    })
    .await?;
    // The value stayed on the board the whole time, and flows again.
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until {
        let p = rx.next_data(Duration::from_secs(1)).await?;
        ensure!(red(&p) == 153, "the canvas noticed: {:?}", &p.slots[..3]);
    }
    broker.publish("venue/lobby/presence", br#"{"level": 0}"#)?;
    rx.until(Duration::from_secs(2), |p| red(p) == 0).await?;
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn inputs_are_checked_admins_write_them_staff_read_them_and_passwords_stay_hidden()
-> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let operator = app.user("op", "operator").await?;
    let attendee = app.attendee("ann").await?;
    let body = json!({"name": "door", "kind": "mqtt", "broker": "mqtt://127.0.0.1:9",
        "username": "limelight", "password": "broker-secret",
        "bindings": [{"name": "door_open", "topic": "venue/door"}]});
    app.refused(
        "POST",
        "/api/v1/inputs",
        &operator,
        Some(body.clone()),
        403,
        "forbidden",
    )
    .await?;
    let input = app.created("/api/v1/inputs", &admin, body.clone()).await?;
    let shown = app
        .get(&operator, &format!("/api/v1/inputs/{input}"))
        .await?;
    ensure!(
        shown["password"] == "********" && shown["kind"] == "mqtt",
        "{shown}"
    );
    let listed = app.get(&operator, "/api/v1/inputs").await?;
    ensure!(!listed.to_string().contains("broker-secret"), "{listed}");
    app.refused("GET", "/api/v1/inputs", &attendee, None, 403, "forbidden")
        .await?;

    // Written back as read (less its id): the stored password stays.
    let mut back = shown.clone();
    back.as_object_mut().map(|o| o.remove("id"));
    let (status, answer) = app
        .call(
            "PUT",
            &format!("/api/v1/inputs/{input}"),
            Some(&admin),
            Some(back),
        )
        .await?;
    ensure!(status == 200, "{status} {answer}");
    ensure!(answer["password"] == "********", "{answer}");
    let audit = app.get(&admin, "/api/v1/audit?limit=10").await?;
    ensure!(!audit.to_string().contains("broker-secret"), "{audit}");
    ensure!(audit.to_string().contains("input.create"), "{audit}");

    // A value name another input has.
    let mut twin = body.clone();
    twin["name"] = json!("door 2");
    app.refused(
        "POST",
        "/api/v1/inputs",
        &admin,
        Some(twin),
        409,
        "conflict",
    )
    .await?;
    for (bad, why) in [
        (
            json!({"name": "x", "kind": "mqtt", "broker": "http://h"}),
            "scheme",
        ),
        (
            json!({"name": "x", "kind": "mqtt", "broker": "mqtt://h",
                   "tls": {"ca": "x"}}),
            "TLS without mqtts",
        ),
        (
            json!({"name": "x", "kind": "radio", "broker": "mqtt://h"}),
            "kind",
        ),
        (
            json!({"name": "x", "kind": "mqtt", "broker": "mqtt://h",
                   "bindings": [{"name": "a", "topic": "a/#/b"}]}),
            "wildcard",
        ),
        (
            json!({"name": "x", "kind": "mqtt", "broker": "mqtt://h",
                   "bindings": [{"name": "a", "topic": "a", "deadband": 2}]}),
            "deadband",
        ),
    ] {
        let (status, answer) = app
            .call("POST", "/api/v1/inputs", Some(&admin), Some(bad.clone()))
            .await?;
        ensure!(
            (status == 400 || status == 422) && answer["message"].is_string(),
            "{why}: {bad} -> {status} {answer}"
        );
    }
    app.refused(
        "GET",
        "/api/v1/inputs/9999/state",
        &admin,
        None,
        404,
        "unknown_input",
    )
    .await?;
    app.refused(
        "DELETE",
        "/api/v1/inputs/9999",
        &admin,
        None,
        404,
        "unknown_input",
    )
    .await?;
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/inputs/{input}"),
            Some(&admin),
            None,
        )
        .await?;
    ensure!(status == 204);
    let listed = app.get(&admin, "/api/v1/inputs").await?;
    ensure!(listed.as_array().is_some_and(Vec::is_empty), "{listed}");
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn a_layer_reads_inputs_for_its_colour_and_region_and_a_level_bar_follows_one() -> Result<()>
{
    let broker = Broker::start()?;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app.canvas_to(&admin, "bar", 10, 40, &rx).await?;
    let input = app
        .created(
            "/api/v1/inputs",
            &admin,
            json!({"name": "desk", "kind": "mqtt", "broker": broker.url(), "bindings": [
                {"name": "fader", "topic": "desk/fader"},
                {"name": "hue", "topic": "desk/hue", "range": [0, 255]}]}),
        )
        .await?;
    let scene = json!({"name": "bar", "layers": [
        {"effect": "solid", "color": {"r": 0, "g": {"input": "hue"}, "b": 0}},
        {"effect": "level", "level": {"input": "fader"}, "color": "#0000FF",
         "background": "#000000", "blend": "add"},
        {"effect": "solid", "color": "#FF0000", "blend": "add",
         "region": {"x": {"input": "fader", "scale": 10}, "y": 0, "width": 1, "height": 1}}]});
    let (status, body) = app
        .call("POST", "/api/v1/scenes", Some(&admin), Some(scene.clone()))
        .await?;
    ensure!(status == 201, "{status} {body}");
    // The scene reads back as written.
    ensure!(body["layers"][0]["color"]["g"]["input"] == "hue", "{body}");
    ensure!(body["layers"][1]["level"]["input"] == "fader", "{body}");
    ensure!(body["layers"][2]["region"]["x"]["scale"] == 10.0, "{body}");
    let (status, body) = app.trigger(&admin, canvas, "bar").await?;
    ensure!(status == 200, "{status} {body}");
    app.input_state_when(&admin, input, Duration::from_secs(10), connected)
        .await?;

    broker.publish("desk/hue", b"200")?;
    broker.publish("desk/fader", b"0.3")?;
    let p = rx
        .until(Duration::from_secs(3), |p| {
            p.slots.get(1) == Some(&200)
                && p.slots.get(2) == Some(&255)
                && p.slots.get(11) == Some(&0)
        })
        .await?;
    // Pixels 0-2 blue over green, the rest green only; the one-pixel region at
    // x = 0.3 x 10 lights pixel 3 red.
    let blues: Vec<u8> = p.slots.chunks(3).take(10).map(|c| c[2]).collect();
    ensure!(blues == [255, 255, 255, 0, 0, 0, 0, 0, 0, 0], "{blues:?}");
    let reds: Vec<u8> = p.slots.chunks(3).take(10).map(|c| c[0]).collect();
    ensure!(reds == [0, 0, 0, 255, 0, 0, 0, 0, 0, 0], "{reds:?}");
    // The fader moves: the region moves with it.
    broker.publish("desk/fader", b"0.7")?;
    rx.until(Duration::from_secs(3), |p| {
        p.slots.get(21) == Some(&255) && p.slots.get(9) == Some(&0)
    })
    .await?;
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn the_command_topic_acts_as_its_configured_user_with_that_users_role() -> Result<()> {
    let broker = Broker::start()?;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    app.user("mk", "marketing").await?;
    let canvas = app.idle_canvas(&admin, "canopy").await?;
    app.solid_scene(&admin, "amber", "#FFBF00").await?;
    let env = app.stop().await;
    let trigger = json!({"type": "trigger_scene", "request_id": "mqtt-1", "canvas": canvas,
                         "scene": "amber"});

    // Marketing may not control canvases: refused as over the WebSocket.
    let mut config = env.config();
    config.mqtt.url = Some(broker.url());
    config.mqtt.commands = true;
    config.mqtt.command_user = Some("mk".into());
    let app = TestApp::spawn_with(env, config.clone()).await?;
    let answer = broker.command_answer(&trigger).await?;
    ensure!(
        answer["type"] == "error"
            && answer["code"] == "forbidden"
            && answer["request_id"] == "mqtt-1",
        "{answer}"
    );
    let bad = broker
        .command_answer(&json!({"type": "join_room", "request_id": "r", "session": 1}))
        .await?;
    ensure!(bad["code"] == "bad_message", "{bad}");
    let env = app.stop().await;

    // As an admin the same message puts the scene on, and is audited as the admin.
    config.mqtt.command_user = Some("admin".into());
    let app = TestApp::spawn_with(env, config).await?;
    let answer = broker.command_answer(&trigger).await?;
    ensure!(
        answer["type"] == "ack" && answer["canvas"]["scene"] == "amber",
        "{answer}"
    );
    let admin = app.admin().await?;
    let audit = app.get(&admin, "/api/v1/audit?limit=5").await?;
    ensure!(
        audit["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|e| e["username"] == "admin"
                && e["action"].as_str().is_some_and(|a| a.contains("scene")))),
        "{audit}"
    );
    app.stop().await;
    Ok(())
}

#[actix_rt::test]
async fn consoles_see_inputs_in_the_snapshot_and_hear_their_values_and_status() -> Result<()> {
    let mut broker = Broker::start()?;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut spec = lobby(&broker);
    spec["bindings"][0]["expire_after_ms"] = Value::Null;
    let input = app.created("/api/v1/inputs", &admin, spec).await?;
    app.input_state_when(&admin, input, Duration::from_secs(10), connected)
        .await?;
    let operator = app.user("op", "operator").await?;
    let mut console = limelight_tests::connect(&app, &operator).await?;
    let snapshot = limelight_tests::next_of(&mut console, "snapshot").await?;
    ensure!(
        snapshot["inputs"][0]["name"] == "lobby"
            && snapshot["inputs"][0]["connection"] == "connected",
        "{snapshot}"
    );

    broker.publish("venue/lobby/presence", br#"{"level": 75}"#)?;
    let data = limelight_tests::next_of(&mut console, "sensor_data").await?;
    ensure!(data["input"] == input, "{data}");
    ensure!(
        data["values"][0]["name"] == "lobby_level" && data["values"][0]["value"] == 0.75,
        "{data}"
    );

    // At most ten a second per value, however fast the sensor speaks.
    let lines: String = (0..500)
        .map(|i| format!("{{\"level\": {}}}\n", i % 100))
        .collect();
    let started = Instant::now();
    broker.publish_lines("venue/lobby/presence", &lines)?;
    let mut heard = 0;
    while started.elapsed() < Duration::from_secs(1) {
        let left = Duration::from_secs(1).saturating_sub(started.elapsed());
        let Ok(Ok(_)) =
            tokio::time::timeout(left, limelight_tests::next_of(&mut console, "sensor_data")).await
        else {
            break;
        };
        heard += 1;
    }
    ensure!(heard <= 11, "{heard} sensor_data messages in one second");

    broker.stop()?;
    let status = limelight_tests::next_where(&mut console, "input_status", |v| {
        v["type"] == "input_status" && v["connection"] == "reconnecting"
    })
    .await?;
    ensure!(
        status["input"] == input && status["name"] == "lobby",
        "{status}"
    );
    broker.restart()?;
    limelight_tests::next_where(&mut console, "input_status", |v| {
        v["type"] == "input_status" && v["connection"] == "connected"
    })
    .await
    .map(|_| ())
    .or_else(|e| bail!("{e}"))?;
    app.stop().await;
    Ok(())
}

/// Whether an input's last attempt failed and it is not connected.
fn failed(state: &Value) -> bool {
    state["last_error"].is_string() && state["connection"] != "connected"
}

#[actix_rt::test]
async fn an_input_reaches_its_broker_over_tls_trusting_only_the_authority_it_is_given() -> Result<()>
{
    let pki = TestPki::new("venue authority")?;
    let stranger = TestPki::new("someone else")?;
    let broker = Broker::start_tls(&pki)?;
    let (tls, mutual) = (broker.tls_url(), broker.mutual_tls_url());
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    bound_canvas(&app, &admin, &rx).await?;
    let within = Duration::from_secs(10);

    // A broker whose certificate another authority signed is not trusted.
    let mut spec = lobby(&broker);
    spec["broker"] = json!(tls);
    spec["bindings"][0]["expire_after_ms"] = Value::Null;
    spec["tls"] = json!({"ca": stranger.ca});
    let input = app.created("/api/v1/inputs", &admin, spec.clone()).await?;
    let path = format!("/api/v1/inputs/{input}");
    let state = app.input_state_when(&admin, input, within, failed).await?;
    ensure!(
        state["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("certificate")),
        "{state}"
    );

    // Its own authority: connected, and a value published (on the plain
    // listener of the same broker) reaches the wire.
    spec["tls"] = json!({"ca": pki.ca});
    let (status, body) = app
        .call("PUT", &path, Some(&admin), Some(spec.clone()))
        .await?;
    ensure!(status == 200, "{status} {body}");
    app.input_state_when(&admin, input, within, connected)
        .await?;
    broker.publish("venue/lobby/presence", br#"{"level": 50}"#)?;
    rx.until(Duration::from_secs(2), |p| red(p) == 128).await?;

    // A listener that asks for a client certificate refuses an input without one
    // and takes one with a certificate of its authority.
    spec["broker"] = json!(mutual);
    let (status, body) = app
        .call("PUT", &path, Some(&admin), Some(spec.clone()))
        .await?;
    ensure!(status == 200, "{status} {body}");
    app.input_state_when(&admin, input, within, failed).await?;
    spec["tls"] = json!({"ca": pki.ca, "client_cert": pki.client_cert,
                         "client_key": pki.client_key});
    let (status, body) = app
        .call("PUT", &path, Some(&admin), Some(spec.clone()))
        .await?;
    ensure!(status == 200, "{status} {body}");
    ensure!(body["tls"]["client_key"] == "********", "{body}");
    app.input_state_when(&admin, input, within, connected)
        .await?;
    broker.publish("venue/lobby/presence", br#"{"level": 100}"#)?;
    rx.until(Duration::from_secs(2), |p| red(p) == 255).await?;

    // Read back and written back as shown, the stored key stays and still works.
    let mut back = app.get(&admin, &path).await?;
    ensure!(back["tls"]["client_key"] == "********", "{back}");
    back.as_object_mut().map(|o| o.remove("id"));
    let (status, body) = app.call("PUT", &path, Some(&admin), Some(back)).await?;
    ensure!(status == 200, "{status} {body}");
    app.input_state_when(&admin, input, within, connected)
        .await?;
    let secret_line = pki.client_key.lines().nth(1).unwrap_or_default().to_owned();
    for read in ["/api/v1/inputs", "/api/v1/audit?limit=20"] {
        let text = app.get(&admin, read).await?.to_string();
        ensure!(!text.contains(&secret_line), "{read} shows the key");
    }

    // Settings that cannot work are refused with a reason and change nothing.
    for (tls, says) in [
        (
            json!({"ca": "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"}),
            "tls.ca",
        ),
        (
            json!({"ca": pki.ca, "client_cert": pki.client_cert,
                   "client_key": stranger.client_key}),
            "tls.client_key",
        ),
        (json!({"client_cert": pki.client_cert}), "go together"),
    ] {
        let mut bad = spec.clone();
        bad["tls"] = tls;
        let (status, answer) = app.call("PUT", &path, Some(&admin), Some(bad)).await?;
        ensure!(
            status == 422 && answer["message"].as_str().is_some_and(|m| m.contains(says)),
            "{says}: {status} {answer}"
        );
    }
    let kept = app.get(&admin, &path).await?;
    ensure!(
        kept["tls"]["client_cert"] == json!(pki.client_cert),
        "{kept}"
    );
    app.input_state_when(&admin, input, within, connected)
        .await?;
    app.stop().await;
    Ok(())
}
