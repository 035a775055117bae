//! The REST API through the real server: roles, bad input, scenes, audit, health.

use anyhow::{Result, ensure};
use jsonwebtoken::{EncodingKey, Header};
use limelight_tests::{JWT_SECRET, Receiver, TestApp};
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

    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(200_000));
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
        status == 422 && code(&err) == "invalid_scene",
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
    let files = limelight_engine::scenes::load_dir(&limelight_tests::scenes_dir())
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
