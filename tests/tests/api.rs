//! The REST API through the real server: roles, bad input, scenes, audit, health.

use anyhow::{Result, ensure};
use jsonwebtoken::{EncodingKey, Header};
use limelight_tests::{Client, JWT_SECRET, Receiver, TestApp};
use serde_json::{Value, json};

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("")
}

#[actix_rt::test]
async fn the_role_matrix_holds() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let id = app.idle_canvas(&admin, "Roles").await?;
    let marketing = app.user("m1", "marketing").await?;
    let operator = app.user("o1", "operator").await?;
    let path = format!("/api/v1/canvases/{id}/blackout");
    let on = Some(json!({"on": true}));

    let (status, body) = app.call("POST", &path, None, on.clone()).await?;
    ensure!(
        status == 401 && code(&body) == "unauthorized",
        "{status} {body}"
    );

    let forged = jsonwebtoken::encode(
        &Header::default(),
        &json!({"sub": "1", "name": "admin", "iat": 0, "exp": 4_102_444_800_i64}),
        &EncodingKey::from_secret(b"not-the-server-secret-not-the-server-secret"),
    )?;
    let (status, body) = app.call("POST", &path, Some(&forged), on.clone()).await?;
    ensure!(
        status == 401 && code(&body) == "unauthorized",
        "{status} {body}"
    );

    let expired = jsonwebtoken::encode(
        &Header::default(),
        &json!({"sub": "1", "name": "admin", "iat": 0, "exp": chrono::Utc::now().timestamp() - 10}),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )?;
    let (status, body) = app.call("POST", &path, Some(&expired), on.clone()).await?;
    ensure!(
        status == 401 && code(&body) == "token_expired",
        "{status} {body}"
    );

    let (status, body) = app
        .call("POST", &path, Some(&marketing), on.clone())
        .await?;
    ensure!(
        status == 403 && code(&body) == "forbidden",
        "{status} {body}"
    );
    let state = app.canvas_state(&marketing, id).await?;
    ensure!(
        state["blackout"] == false,
        "a refused command changes nothing"
    );

    let (status, body) = app.call("POST", &path, Some(&operator), on.clone()).await?;
    ensure!(status == 200 && body["blackout"] == true, "{status} {body}");

    // Marketing writes scenes, operators do not; only admins manage users and canvases.
    let scene = json!({"name": "m-scene", "layers": [{"effect": "solid", "color": "#102030"}]});
    ensure!(
        app.call(
            "POST",
            "/api/v1/scenes",
            Some(&marketing),
            Some(scene.clone())
        )
        .await?
        .0 == 201
    );
    ensure!(
        app.call("POST", "/api/v1/scenes", Some(&operator), Some(scene))
            .await?
            .0
            == 403
    );
    ensure!(
        app.call("GET", "/api/v1/users", Some(&operator), None)
            .await?
            .0
            == 403
    );
    ensure!(
        app.call("GET", "/api/v1/canvases", Some(&marketing), None)
            .await?
            .0
            == 200
    );
    ensure!(
        app.call(
            "DELETE",
            &format!("/api/v1/canvases/{id}"),
            Some(&operator),
            None
        )
        .await?
        .0 == 403
    );
    ensure!(
        app.call("GET", "/api/v1/audit", Some(&operator), None)
            .await?
            .0
            == 403
    );
    Ok(())
}

#[actix_rt::test]
async fn bad_input_gets_clear_errors_and_changes_nothing() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let id = app.idle_canvas(&admin, "Safe").await?;
    app.solid_scene(&admin, "orange", "#FF8000").await?;
    let (_, canvases_before) = app
        .call("GET", "/api/v1/canvases", Some(&admin), None)
        .await?;
    let state_before = app.canvas_state(&admin, id).await?;

    let (status, body) = app
        .call_raw(
            "POST",
            "/api/v1/canvases",
            Some(&admin),
            "application/json",
            b"{\"name\": ".to_vec(),
        )
        .await?;
    ensure!(
        status == 400 && code(&body) == "invalid_json",
        "{status} {body}"
    );

    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{id}/scene"),
            Some(&admin),
            Some(json!({"scene": "nope"})),
        )
        .await?;
    ensure!(
        status == 404 && code(&body) == "unknown_scene",
        "{status} {body}"
    );

    let (status, body) = app
        .call(
            "POST",
            "/api/v1/canvases",
            Some(&admin),
            Some(json!({"name": "Zero", "pixels": 10, "fps": 0, "output": {"universe": 1}})),
        )
        .await?;
    ensure!(
        status == 422 && code(&body) == "validation_failed",
        "{status} {body}"
    );
    ensure!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("fps must be between 1 and 60"),
        "{body}"
    );

    let (status, body) = app
        .call(
            "POST",
            "/api/v1/canvases",
            Some(&admin),
            Some(json!({"name": "X", "pixels": 10, "output": {"universe": 1}, "colour": "red"})),
        )
        .await?;
    ensure!(
        status == 422
            && body["message"]
                .as_str()
                .unwrap_or("")
                .contains("unknown field"),
        "{status} {body}"
    );

    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2_000_000));
    let (status, body) = app
        .call_raw(
            "POST",
            "/api/v1/canvases",
            Some(&admin),
            "application/json",
            huge.clone().into_bytes(),
        )
        .await?;
    ensure!(
        status == 413 && code(&body) == "payload_too_large",
        "{status} {body}"
    );
    let (status, body) = app
        .call_raw(
            "POST",
            "/api/v1/scenes",
            Some(&admin),
            "application/json",
            huge.into_bytes(),
        )
        .await?;
    ensure!(
        status == 413 && code(&body) == "payload_too_large",
        "{status} {body}"
    );

    let (status, body) = app
        .call(
            "POST",
            "/api/v1/canvases/999/blackout",
            Some(&admin),
            Some(json!({"on": true})),
        )
        .await?;
    ensure!(
        status == 404 && code(&body) == "unknown_canvas",
        "{status} {body}"
    );
    let (status, body) = app
        .call("GET", "/api/v1/canvases/abc", Some(&admin), None)
        .await?;
    ensure!(
        status == 404 && code(&body) == "not_found",
        "{status} {body}"
    );
    let (status, body) = app
        .call("GET", "/api/v1/nothing-here", Some(&admin), None)
        .await?;
    ensure!(
        status == 404 && code(&body) == "not_found",
        "{status} {body}"
    );

    // Overlapping universes are refused.
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/canvases",
            Some(&admin),
            Some(json!({"name": "Clash", "pixels": 10, "output": {"universe": 1}})),
        )
        .await?;
    ensure!(
        status == 409 && code(&body) == "conflict",
        "{status} {body}"
    );

    let (_, canvases_after) = app
        .call("GET", "/api/v1/canvases", Some(&admin), None)
        .await?;
    let state_after = app.canvas_state(&admin, id).await?;
    ensure!(canvases_before == canvases_after);
    ensure!(state_before["scene"] == state_after["scene"] && state_after["blackout"] == false);
    Ok(())
}

#[actix_rt::test]
async fn a_broken_scene_body_names_the_field_line_and_column() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let body =
        b"{\"name\": \"bad\",\n \"layers\": [{\"effect\": \"solid\", \"color\": \"orange\"}]}"
            .to_vec();
    let (status, err) = app
        .call_raw(
            "POST",
            "/api/v1/scenes",
            Some(&admin),
            "application/json",
            body,
        )
        .await?;
    ensure!(
        status == 422 && code(&err) == "validation_failed",
        "{status} {err}"
    );
    let message = err["message"].as_str().unwrap_or("");
    ensure!(
        message.contains("line 2")
            && message.contains("layers[0].color")
            && message.contains("#RRGGBB"),
        "{message}"
    );
    let (_, scenes) = app
        .call("GET", "/api/v1/scenes", Some(&admin), None)
        .await?;
    ensure!(
        !scenes
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["name"] == "bad"))
    );
    Ok(())
}

#[actix_rt::test]
async fn scene_files_are_seeded_and_scenes_have_crud() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let (_, scenes) = app
        .call("GET", "/api/v1/scenes", Some(&admin), None)
        .await?;
    let files = limelight_engine::load_scene_dir(&limelight_tests::scenes_dir())
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    ensure!(
        scenes.as_array().map(Vec::len) == Some(files.len()),
        "every file in scenes/ is seeded"
    );
    ensure!(
        scenes
            .as_array()
            .is_some_and(|s| s.iter().all(|s| s["origin"] == "file"))
    );

    app.solid_scene(&admin, "temp", "#010203").await?;
    let (_, list) = app
        .call("GET", "/api/v1/scenes", Some(&admin), None)
        .await?;
    let id = list
        .as_array()
        .and_then(|l| l.iter().find(|s| s["name"] == "temp"))
        .and_then(|s| s["id"].as_i64())
        .ok_or_else(|| anyhow::anyhow!("temp scene missing"))?;
    let (status, updated) = app
        .call(
            "PUT",
            &format!("/api/v1/scenes/{id}"),
            Some(&admin),
            Some(json!({"name": "temp", "layers": [{"effect": "rainbow"}]})),
        )
        .await?;
    ensure!(
        status == 200 && updated["layers"][0]["effect"] == "rainbow",
        "{status} {updated}"
    );
    ensure!(
        app.call(
            "POST",
            "/api/v1/scenes",
            Some(&admin),
            Some(json!({"name": "temp", "layers": [{"effect": "rainbow"}]}))
        )
        .await?
        .0 == 409
    );
    ensure!(
        app.call(
            "DELETE",
            &format!("/api/v1/scenes/{id}"),
            Some(&admin),
            None
        )
        .await?
        .0 == 204
    );
    ensure!(
        app.call("GET", &format!("/api/v1/scenes/{id}"), Some(&admin), None)
            .await?
            .0
            == 404
    );
    Ok(())
}

#[actix_rt::test]
async fn live_commands_are_audited_and_paged() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let operator = app.user("night", "operator").await?;
    let id = app.idle_canvas(&admin, "Audited").await?;
    for level in [10, 20, 30] {
        app.call(
            "POST",
            &format!("/api/v1/canvases/{id}/master"),
            Some(&operator),
            Some(json!({"level": level})),
        )
        .await?;
    }
    app.call(
        "POST",
        &format!("/api/v1/canvases/{id}/scene"),
        Some(&operator),
        Some(json!({"scene": "missing"})),
    )
    .await?;
    let (status, page) = app
        .call("GET", "/api/v1/audit?page=1&limit=2", Some(&admin), None)
        .await?;
    ensure!(
        status == 200 && page["total"] == 4 && page["items"].as_array().map(Vec::len) == Some(2),
        "{page}"
    );
    let newest = &page["items"][0];
    ensure!(
        newest["action"] == "trigger_scene"
            && newest["outcome"] == "error"
            && newest["username"] == "night",
        "{newest}"
    );
    ensure!(newest["target"] == format!("canvas:{id}"));
    let (_, page2) = app
        .call("GET", "/api/v1/audit?page=2&limit=2", Some(&admin), None)
        .await?;
    ensure!(page2["items"][0]["detail"]["level"] == 20.0, "{page2}");
    ensure!(
        app.call("GET", "/api/v1/audit?limit=0", Some(&admin), None)
            .await?
            .0
            == 422
    );
    Ok(())
}

#[actix_rt::test]
async fn health_metrics_and_openapi_are_served() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    app.canvas_to(&admin, "Metered", 10, 40, &rx).await?;
    ensure!(app.call("GET", "/healthz", None, None).await?.0 == 200);
    let (status, ready) = app.call("GET", "/readyz", None, None).await?;
    ensure!(status == 200 && ready["status"] == "ready", "{ready}");
    let (status, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await?;
    ensure!(status == 200 && doc["openapi"] == "3.1.0");
    // Once frames are on the wire, every kind of counter is there.
    for _ in 0..3 {
        rx.next_data(std::time::Duration::from_secs(2)).await?;
    }
    let text = app.metrics().await?;
    for name in [
        "limelight_canvas_frames_total",
        "limelight_output_packets_sent_total",
        "limelight_http_request_duration_seconds_bucket",
        "limelight_canvas_frame_interval_seconds_bucket",
    ] {
        ensure!(text.contains(name), "{name} is not exported");
    }
    Ok(())
}

#[actix_rt::test]
async fn users_can_be_managed_and_the_last_admin_is_kept() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let (status, user) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"username": "m1", "password": "marketing-pw", "role": "marketing"})),
        )
        .await?;
    ensure!(
        status == 201 && user["role"] == "marketing" && user.get("password_hash").is_none(),
        "{user}"
    );
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"username": "m1", "password": "marketing-pw", "role": "marketing"})),
        )
        .await?;
    ensure!(status == 409, "{status} {body}");
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"username": "short", "password": "x", "role": "operator"})),
        )
        .await?;
    ensure!(status == 422);
    ensure!(
        app.call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "m1", "password": "wrong-password"}))
        )
        .await?
        .0 == 401
    );
    let (_, me) = app
        .call("GET", "/api/v1/auth/me", Some(&admin), None)
        .await?;
    let admin_id = me["id"].as_i64().unwrap_or_default();
    let (status, body) = app
        .call(
            "DELETE",
            &format!("/api/v1/users/{admin_id}"),
            Some(&admin),
            None,
        )
        .await?;
    ensure!(status == 409, "{status} {body}");
    let m1 = user["id"].as_i64().unwrap_or_default();
    let m1_token = app.login("m1", "marketing-pw").await?;
    ensure!(
        app.call("DELETE", &format!("/api/v1/users/{m1}"), Some(&admin), None)
            .await?
            .0
            == 204
    );
    // A deleted user's token stops working.
    ensure!(
        app.call("GET", "/api/v1/canvases", Some(&m1_token), None)
            .await?
            .0
            == 401
    );
    Ok(())
}

#[actix_rt::test]
async fn a_role_change_or_deletion_applies_on_the_very_next_request() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let id = app.idle_canvas(&admin, "Principals").await?;
    let operator = app.user("o2", "operator").await?;
    let (_, me) = app
        .call("GET", "/api/v1/auth/me", Some(&operator), None)
        .await?;
    let user = me["id"].as_i64().unwrap_or_default();
    let blackout = format!("/api/v1/canvases/{id}/blackout");
    let on = Some(json!({"on": true}));
    // Known to the server: every request below authenticates from memory.
    for _ in 0..3 {
        let (status, body) = app
            .call("POST", &blackout, Some(&operator), on.clone())
            .await?;
        ensure!(status == 200, "{status} {body}");
    }

    let (status, body) = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{user}"),
            Some(&admin),
            Some(json!({"role": "marketing"})),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    let (status, body) = app
        .call("POST", &blackout, Some(&operator), on.clone())
        .await?;
    ensure!(
        status == 403 && code(&body) == "forbidden",
        "the demoted user's very next command is refused: {status} {body}"
    );
    let (status, body) = app
        .call("GET", "/api/v1/canvases", Some(&operator), None)
        .await?;
    ensure!(status == 200, "{status} {body}");

    let (status, body) = app
        .call(
            "DELETE",
            &format!("/api/v1/users/{user}"),
            Some(&admin),
            None,
        )
        .await?;
    ensure!(status == 204, "{status} {body}");
    let (status, body) = app
        .call("GET", "/api/v1/canvases", Some(&operator), None)
        .await?;
    ensure!(
        status == 401 && code(&body) == "unauthorized",
        "a deleted user's token is refused on the very next request: {status} {body}"
    );
    Ok(())
}

#[actix_rt::test]
async fn every_answer_carries_a_request_id_and_errors_name_it() -> Result<()> {
    let app = TestApp::spawn().await?;
    let http = reqwest::Client::new();
    let res = http
        .get(app.url("/api/v1/canvases"))
        .header("x-request-id", "venue-proxy-0042")
        .send()
        .await?;
    let echoed = Client::header(&res, "x-request-id");
    let status = res.status().as_u16();
    let body: Value = res.json().await?;
    ensure!(status == 401, "{status} {body}");
    ensure!(
        echoed.as_deref() == Some("venue-proxy-0042"),
        "the client's id is echoed: {echoed:?}"
    );
    ensure!(
        body["request_id"] == "venue-proxy-0042",
        "the error body names the request: {body}"
    );

    let res = http
        .get(app.url("/healthz"))
        .header("x-request-id", "not a usable id")
        .send()
        .await?;
    let generated = Client::header(&res, "x-request-id").unwrap_or_default();
    ensure!(
        generated.len() == 32 && generated.bytes().all(|b| b.is_ascii_hexdigit()),
        "an unusable id is replaced by a generated one: {generated:?}"
    );
    let (status, body) = app.call("GET", "/api/v1/no-such-route", None, None).await?;
    ensure!(
        status == 404 && body["request_id"].as_str().is_some_and(|id| id.len() == 32),
        "an error of a request without an id names the generated one: {status} {body}"
    );
    Ok(())
}

#[actix_rt::test]
async fn every_json_body_is_read_one_way() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let id = app.idle_canvas(&admin, "Bodies").await?;
    let creates = [
        "/api/v1/scenes",
        "/api/v1/events",
        "/api/v1/venues",
        "/api/v1/schedule",
        "/api/v1/cue-lists",
        "/api/v1/canvases",
        "/api/v1/incidents",
        "/api/v1/users",
    ];
    let commands = [
        format!("/api/v1/canvases/{id}/scene"),
        format!("/api/v1/canvases/{id}/master"),
        format!("/api/v1/canvases/{id}/cues"),
    ];
    let paths = creates
        .iter()
        .map(|p| (*p).to_owned())
        .chain(commands.iter().cloned());
    for path in paths {
        let (status, err) = app
            .call_raw(
                "POST",
                &path,
                Some(&admin),
                "application/json",
                b"{,}".to_vec(),
            )
            .await?;
        ensure!(
            status == 400
                && code(&err) == "invalid_json"
                && err["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("line 1 column 2")),
            "{path}: not JSON is 400 invalid_json at its position: {status} {err}"
        );
        let (status, err) = app
            .call_raw(
                "POST",
                &path,
                Some(&admin),
                "application/json",
                b"{\"name\": [1]}".to_vec(),
            )
            .await?;
        ensure!(
            status == 422 && code(&err) == "validation_failed",
            "{path}: JSON of the wrong shape is 422 validation_failed: {status} {err}"
        );
    }
    let (status, err) = app
        .call_raw(
            "POST",
            "/api/v1/events",
            Some(&admin),
            "application/json",
            b"{\"venue\": 1, \"name\": \"Gala\", \"type\": \"show\", \"starts_at\": 7}".to_vec(),
        )
        .await?;
    ensure!(
        status == 422
            && code(&err) == "validation_failed"
            && err["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("starts_at: ")),
        "the failing field is named: {status} {err}"
    );
    let (_, scenes) = app
        .call("GET", "/api/v1/scenes", Some(&admin), None)
        .await?;
    let (_, events) = app
        .call("GET", "/api/v1/events", Some(&admin), None)
        .await?;
    ensure!(
        scenes
            .as_array()
            .is_some_and(|s| s.iter().all(|s| s["origin"] == "file"))
            && events["total"] == 0,
        "nothing refused was stored: {scenes} {events}"
    );
    Ok(())
}

#[actix_rt::test]
async fn a_method_a_path_does_not_have_is_405_with_allow() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let http = reqwest::Client::new();
    for (method, path, allow) in [
        ("TRACE", "/api/v1/canvases", "GET, POST"),
        ("PATCH", "/api/v1/canvases/1", "GET, PUT, DELETE"),
        ("DELETE", "/healthz", "GET"),
        ("PUT", "/api/v1/sessions/1/holds/h1/confirm", "POST"),
    ] {
        let res = http
            .request(
                reqwest::Method::from_bytes(method.as_bytes())?,
                app.url(path),
            )
            .bearer_auth(&admin)
            .send()
            .await?;
        let status = res.status().as_u16();
        let allowed = Client::header(&res, "allow");
        let body: Value = res.json().await?;
        ensure!(
            status == 405
                && code(&body) == "method_not_allowed"
                && allowed.as_deref() == Some(allow),
            "{method} {path}: {status} {allowed:?} {body}"
        );
    }
    let (status, body) = app
        .call("TRACE", "/api/v1/nowhere", Some(&admin), None)
        .await?;
    ensure!(
        status == 404 && code(&body) == "not_found",
        "{status} {body}"
    );
    Ok(())
}

#[actix_rt::test]
async fn the_api_reference_is_a_page_of_the_served_document() -> Result<()> {
    let app = TestApp::spawn().await?;
    let (_, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await?;
    let operations: usize = doc["paths"]
        .as_object()
        .map(|p| {
            p.values()
                .filter_map(|o| o.as_object())
                .map(|o| o.len())
                .sum()
        })
        .unwrap_or_default();
    ensure!(operations > 80, "{operations} operations");
    ensure!(
        doc["paths"]["/api/v1/canvases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"]
            == "#/components/schemas/CanvasSpec",
        "bodies come from the handlers' types"
    );
    let res = reqwest::get(app.url("/api/v1/docs")).await?;
    let header = |name: &str| Client::header(&res, name).unwrap_or_default();
    let (csp, nosniff, kind) = (
        header("content-security-policy"),
        header("x-content-type-options"),
        header("content-type"),
    );
    let status = res.status().as_u16();
    let page = res.text().await?;
    ensure!(
        status == 200 && kind.starts_with("text/html"),
        "{status} {kind}"
    );
    ensure!(
        csp.contains("default-src 'none'")
            && csp.contains("frame-ancestors 'none'")
            && nosniff == "nosniff",
        "{csp} {nosniff}"
    );
    ensure!(
        !page.contains("<script") && !page.contains("https://"),
        "the page needs nothing from outside"
    );
    for expected in [
        "/api/v1/sessions/{id}/bookings",
        "schema-CanvasSpec",
        "Idempotency-Key",
    ] {
        ensure!(page.contains(expected), "the page shows {expected}");
    }
    Ok(())
}

#[actix_rt::test]
async fn a_scene_thumbnail_is_a_png_of_the_scene_over_time() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let marketing = app.user("thumbs", "marketing").await?;
    let id = app
        .created(
            "/api/v1/scenes",
            &admin,
            json!({"name": "thumb", "layers": [
                {"effect": "solid", "color": "#102030"},
                {"effect": "chase", "color": "#FFFFFF", "background": "#000000",
                 "width": 1, "speed": 4, "region": {"start": 8, "len": 8}}]}),
        )
        .await?;
    let res = app
        .http
        .get(app.url(&format!(
            "/api/v1/scenes/{id}/thumbnail?width=16&height=4&seconds=1"
        )))
        .bearer_auth(&marketing)
        .send()
        .await?;
    ensure!(res.status() == 200, "{}", res.status());
    ensure!(Client::header(&res, "content-type").as_deref() == Some("image/png"));
    let bytes = res.bytes().await?;
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info()?;
    let mut rgb = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut rgb)?;
    ensure!(
        (info.width, info.height, info.color_type) == (16, 4, png::ColorType::Rgb),
        "{info:?}"
    );
    let pixel = |row: usize, col: usize| &rgb[(row * 16 + col) * 3..][..3];
    // Left half: the solid base. Right half: the chase's region, its head one pixel
    // further along on each row (4 pixels a second, rows a quarter second apart).
    for row in 0..4 {
        ensure!(pixel(row, 0) == [0x10, 0x20, 0x30], "row {row}");
        for col in 8..16 {
            let lit = col - 8 == row;
            ensure!(
                pixel(row, col) == if lit { [255, 255, 255] } else { [0, 0, 0] },
                "row {row} column {col}: {:?}",
                pixel(row, col)
            );
        }
    }

    for (query, status, wanted) in [
        ("?width=7", 422, "validation_failed"),
        ("?height=0", 422, "validation_failed"),
        ("?seconds=-1", 422, "validation_failed"),
        ("?width=wide", 422, "validation_failed"),
        ("?colour=red", 422, "validation_failed"),
    ] {
        let (got, err) = app
            .call(
                "GET",
                &format!("/api/v1/scenes/{id}/thumbnail{query}"),
                Some(&admin),
                None,
            )
            .await?;
        ensure!(
            got == status && code(&err) == wanted,
            "{query}: {got} {err}"
        );
    }
    // A region at the far end of the numbers is cut, not rendered.
    let far = app
        .created(
            "/api/v1/scenes",
            &admin,
            json!({"name": "far", "layers": [{"effect": "solid", "color": "#00FF00",
                   "region": {"start": 4_294_967_295_u64, "len": 4_294_967_295_u64}}]}),
        )
        .await?;
    let res = app
        .http
        .get(app.url(&format!(
            "/api/v1/scenes/{far}/thumbnail?width=512&height=128"
        )))
        .bearer_auth(&admin)
        .send()
        .await?;
    ensure!(res.status() == 200, "{}", res.status());
    let (got, err) = app
        .call("GET", "/api/v1/scenes/999999/thumbnail", Some(&admin), None)
        .await?;
    ensure!(got == 404 && code(&err) == "unknown_scene", "{got} {err}");
    let (got, _) = app
        .call("GET", &format!("/api/v1/scenes/{id}/thumbnail"), None, None)
        .await?;
    ensure!(got == 401);
    Ok(())
}

#[actix_rt::test]
async fn logging_out_ends_that_token_everywhere_and_across_a_restart() -> Result<()> {
    let app = TestApp::spawn().await?;
    let ended = app.admin().await?;
    let other = app.admin().await?;
    let (status, _) = app
        .call("POST", "/api/v1/auth/logout", Some(&ended), None)
        .await?;
    ensure!(status == 204, "{status}");
    let (status, err) = app
        .call("GET", "/api/v1/auth/me", Some(&ended), None)
        .await?;
    ensure!(
        status == 401
            && code(&err) == "unauthorized"
            && err["message"]
                .as_str()
                .is_some_and(|m| m.contains("logging out")),
        "{status} {err}"
    );
    ensure!(
        limelight_tests::connect(&app, &ended).await.is_err(),
        "the WebSocket takes an ended token"
    );
    // The user's other token goes on.
    let (status, _) = app
        .call("GET", "/api/v1/auth/me", Some(&other), None)
        .await?;
    ensure!(status == 200);
    let (status, _) = app.call("POST", "/api/v1/auth/logout", None, None).await?;
    ensure!(status == 401);

    // Stored: a restart on the same database still refuses it.
    let app = TestApp::spawn_in(app.stop().await).await?;
    let (status, _) = app
        .call("GET", "/api/v1/auth/me", Some(&ended), None)
        .await?;
    ensure!(status == 401, "{status} after a restart");
    let (status, _) = app
        .call("GET", "/api/v1/auth/me", Some(&other), None)
        .await?;
    ensure!(status == 200);
    Ok(())
}

/// Spend `token`'s budget: requests until one is refused (right after the last
/// one that passed, so the next request is refused too unless the machine
/// stalls for a refill's 0.6 s). The refusal, and how many passed before it.
async fn exhaust(app: &TestApp, token: &str) -> Result<(reqwest::Response, usize)> {
    for passed in 0..1000 {
        let answer = app
            .http
            .get(app.url("/api/v1/canvases"))
            .bearer_auth(token)
            .send()
            .await?;
        if answer.status() == 429 {
            return Ok((answer, passed));
        }
        ensure!(answer.status() == 200, "{}", answer.status());
    }
    anyhow::bail!("1000 requests and no refusal")
}

#[actix_rt::test]
async fn one_users_requests_past_their_limit_get_429_with_retry_after_and_change_nothing()
-> Result<()> {
    use futures_util::SinkExt;
    let env = limelight_tests::TestEnv::new().await?;
    let mut config = env.config();
    config.rate_limit_per_minute = 100;
    // Admins unlimited by their role's own setting.
    let unlimited = limelight_api::config::RoleConfig {
        rate_limit_per_minute: Some(0),
    };
    config.roles.insert("admin".into(), unlimited);
    config.ws_rate_limit_per_minute = 5;
    config.login_rate_limit_per_minute = 4;
    let app = TestApp::spawn_with(env, config).await?;
    let admin = app.admin().await?;
    let canvas = app.idle_canvas(&admin, "canopy").await?;
    app.solid_scene(&admin, "amber", "#FFBF00").await?;
    let op = app.user("op", "operator").await?;

    // The whole burst passes; past it, only what refilled since the start (one
    // request each 0.6 s) does.
    let started = std::time::Instant::now();
    for i in 0..100 {
        let (status, body) = app.call("GET", "/api/v1/canvases", Some(&op), None).await?;
        ensure!(status == 200, "request {i}: {status} {body}");
    }
    let (over, extra) = exhaust(&app, &op).await?;
    let refilled = (started.elapsed().as_secs_f64() / 0.6).ceil() as usize;
    ensure!(
        extra <= refilled,
        "{extra} passed past the burst, {refilled} refilled"
    );
    let header = |name: &str| {
        over.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let retry: u64 = header("retry-after").parse()?;
    ensure!((1..=60).contains(&retry), "Retry-After {retry}");
    ensure!(
        header("ratelimit") == format!("limit=100, remaining=0, reset={retry}")
            && header("ratelimit-policy") == "100;w=60",
        "{:?}",
        over.headers()
    );
    let body: Value = over.json().await?;
    ensure!(
        body["code"] == "rate_limited" && body["message"].is_string(),
        "{body}"
    );

    // A write past the limit is refused and changes nothing.
    exhaust(&app, &op).await?;
    app.refused(
        "POST",
        &format!("/api/v1/canvases/{canvas}/scene"),
        &op,
        Some(json!({"scene": "amber"})),
        429,
        "rate_limited",
    )
    .await?;
    let state = app.canvas_state(&admin, canvas).await?;
    ensure!(state["scene"].is_null(), "{state}");
    // Emergency, blackout and panic are never refused.
    for (path, body) in [
        (
            format!("/api/v1/canvases/{canvas}/emergency"),
            json!({"on": true}),
        ),
        (
            format!("/api/v1/canvases/{canvas}/blackout"),
            json!({"on": true}),
        ),
        (
            format!("/api/v1/canvases/{canvas}/cues"),
            json!({"action": "panic"}),
        ),
        ("/api/v1/panic".to_owned(), json!({"fade_ms": 0})),
    ] {
        let (status, answer) = app.call("POST", &path, Some(&op), Some(body)).await?;
        ensure!(status == 200, "{path}: {status} {answer}");
    }
    // Another cue command counts as any request.
    exhaust(&app, &op).await?;
    app.refused(
        "POST",
        &format!("/api/v1/canvases/{canvas}/cues"),
        &op,
        Some(json!({"action": "go"})),
        429,
        "rate_limited",
    )
    .await?;
    // Each user has a budget of their own; the admin's role has none.
    for _ in 0..150 {
        let (status, _) = app
            .call("GET", "/api/v1/canvases", Some(&admin), None)
            .await?;
        ensure!(status == 200);
    }

    // Login attempts per username: op has logged in once; three wrong passwords
    // are answered as such, the fifth attempt is refused before it is checked.
    let wrong = json!({"username": "op", "password": "not-it"});
    for _ in 0..3 {
        let (status, _) = app
            .call("POST", "/api/v1/auth/login", None, Some(wrong.clone()))
            .await?;
        ensure!(status == 401, "{status}");
    }
    let right = json!({"username": "op", "password": "op-password"});
    let (status, answer) = app
        .call("POST", "/api/v1/auth/login", None, Some(right))
        .await?;
    ensure!(
        status == 429 && answer["code"] == "rate_limited",
        "{status} {answer}"
    );

    // WebSocket commands: five, then refused; blackout still taken.
    let mut console = limelight_tests::connect(&app, &admin).await?;
    limelight_tests::next_of(&mut console, "snapshot").await?;
    for n in 1..=6 {
        let master = json!({"type": "master", "request_id": format!("m{n}"),
                            "canvas": canvas, "level": 50});
        console
            .send(tokio_tungstenite::tungstenite::Message::Text(
                master.to_string().into(),
            ))
            .await?;
        let id = format!("m{n}");
        let answer =
            limelight_tests::next_where(&mut console, "answer", |m| m["request_id"] == id).await?;
        let refused = answer["type"] == "error" && answer["code"] == "rate_limited";
        ensure!((n == 6) == refused, "command {n}: {answer}");
    }
    let off = json!({"type": "blackout", "request_id": "b1", "canvas": canvas, "on": false});
    console
        .send(tokio_tungstenite::tungstenite::Message::Text(
            off.to_string().into(),
        ))
        .await?;
    let answer =
        limelight_tests::next_where(&mut console, "blackout", |m| m["request_id"] == "b1").await?;
    ensure!(answer["type"] == "ack", "{answer}");
    app.stop().await;
    Ok(())
}
