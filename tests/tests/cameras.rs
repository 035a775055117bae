//! Camera inputs through the real server and real GStreamer pipelines: the test
//! ball of `videotestsrc` is tracked where its own formula puts it, and a
//! `follow` layer lights the pixels under it on the E1.31 wire.
#![cfg(feature = "media")]

use anyhow::{Result, bail, ensure};
use limelight_tests::{DataPacket, Receiver, TestApp};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The analysis size, which is also the test source's size.
const W: f64 = 160.0;
const H: f64 = 120.0;
/// The canvas: a 16 x 10 matrix.
const CW: usize = 16;
const CH: usize = 10;

/// Where `videotestsrc pattern=ball motion=wavy` (radius 20) puts the ball's
/// centre in frame `n` of a `w` x `h` picture.
fn ball(n: u64, w: f64, h: f64) -> [f64; 2] {
    let t = std::f64::consts::TAU * n as f64 / 200.0;
    [
        20.0 + (0.5 + 0.5 * t.sin()) * (w - 40.0),
        20.0 + (0.5 + 0.5 * (t * std::f64::consts::SQRT_2).sin()) * (h - 40.0),
    ]
}

/// The moving test ball at the analysis size, 20 frames a second.
fn ball_source() -> String {
    format!(
        "videotestsrc is-live=true pattern=ball animation-mode=frames motion=wavy ! \
         video/x-raw,width={W},height={H},framerate=20/1"
    )
}

/// A 16 x 10 matrix canvas at 40 fps sending to `rx`, showing `layers`.
async fn matrix_showing(app: &TestApp, admin: &str, rx: &Receiver, layers: Value) -> Result<i64> {
    let canvas = app
        .created(
            "/api/v1/canvases",
            admin,
            json!({"name": "floor", "fps": 40,
                   "geometry": {"kind": "matrix", "width": CW, "height": CH},
                   "output": {"universe": 1, "destinations": [rx.dest()?]}}),
        )
        .await?;
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/scenes",
            Some(admin),
            Some(json!({"name": "follow the ball", "layers": layers})),
        )
        .await?;
    ensure!(status == 201, "{status} {body}");
    let (status, body) = app.trigger(admin, canvas, "follow the ball").await?;
    ensure!(status == 200, "{status} {body}");
    Ok(canvas)
}

/// The brightness-weighted centre of a packet's red, in canvas cells.
fn lit_centre(p: &DataPacket) -> Option<[f64; 2]> {
    let (mut sum, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for i in 0..CW * CH {
        let red = f64::from(p.slots.get(3 * i).copied().unwrap_or(0));
        sum += red;
        sx += red * (i % CW) as f64;
        sy += red * (i / CW) as f64;
    }
    (sum > 0.0).then(|| [sx / sum, sy / sum])
}

#[actix_rt::test]
async fn a_camera_tracks_the_test_ball_and_a_follow_layer_lights_the_pixels_under_it() -> Result<()>
{
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    matrix_showing(
        &app,
        &admin,
        &rx,
        json!([{"effect": "follow", "camera": "door", "color": "#FF0000", "radius": 0.125}]),
    )
    .await?;
    let input = app
        .created(
            "/api/v1/inputs",
            &admin,
            json!({"name": "door", "kind": "camera", "source": ball_source(),
                   "width": W, "height": H}),
        )
        .await?;
    app.input_state_when(&admin, input, Duration::from_secs(10), |s| {
        s["connection"] == "connected" && s["blobs"].as_array().is_some_and(|b| !b.is_empty())
    })
    .await?;

    let mut frames = std::collections::BTreeSet::new();
    let mut ids = std::collections::BTreeSet::new();
    let mut on_wire = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while frames.len() < 20 || on_wire < 8 {
        ensure!(
            Instant::now() < deadline,
            "{} frames and {on_wire} packets checked",
            frames.len()
        );
        let asked = Instant::now();
        let state = app
            .get(&admin, &format!("/api/v1/inputs/{input}/state"))
            .await?;
        let (Some(n), Some(blobs)) = (state["frame"].as_u64(), state["blobs"].as_array()) else {
            bail!("a camera's state has a frame and blobs: {state}");
        };
        ensure!(blobs.len() == 1, "one ball, one blob: {state}");
        let [ex, ey] = ball(n, W, H);
        for b in blobs {
            let (x, y) = (
                b["x"].as_f64().unwrap_or(-1.0),
                b["y"].as_f64().unwrap_or(-1.0),
            );
            ensure!(
                (x - ex).hypot(y - ey) <= 2.0,
                "frame {n}: blob at ({x:.2}, {y:.2}), the ball at ({ex:.2}, {ey:.2})"
            );
            ids.insert(b["id"].as_u64().unwrap_or(0));
        }
        frames.insert(n);
        // The first packet sent after the state was read shows this frame or a
        // newer one; the ball moves under 0.2 cells a frame.
        let p = rx.until(Duration::from_secs(2), |p| p.at >= asked).await?;
        let Some([cx, cy]) = lit_centre(&p) else {
            bail!("frame {n}: nothing lit on the wire");
        };
        let [wx, wy] = [ex / W * CW as f64 - 0.5, ey / H * CH as f64 - 0.5];
        ensure!(
            (cx - wx).hypot(cy - wy) <= 1.0,
            "frame {n}: lit round ({cx:.2}, {cy:.2}), the ball over ({wx:.2}, {wy:.2})"
        );
        let under = (wy.round() as usize).min(CH - 1) * CW + (wx.round() as usize).min(CW - 1);
        ensure!(
            p.slots.get(3 * under).copied().unwrap_or(0) >= 200,
            "frame {n}: the pixel under the ball is lit"
        );
        on_wire += 1;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    ensure!(
        ids.len() == 1 && !ids.contains(&0),
        "one ball keeps one id: {ids:?}"
    );
    let state = app
        .get(&admin, &format!("/api/v1/inputs/{input}/state"))
        .await?;
    ensure!(
        state["kind"] == "camera" && state["blob_events"]["entered"] == 1,
        "{state}"
    );
    ensure!(state["blob_events"]["left"] == 0, "{state}");
    Ok(())
}

#[actix_rt::test]
async fn a_camera_that_does_not_parse_fails_or_ends_is_refused_or_shown_and_no_frame_is_skipped()
-> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    matrix_showing(
        &app,
        &admin,
        &rx,
        json!([{"effect": "solid", "color": "#000010"},
               {"effect": "follow", "camera": "short", "color": "#FF0000"},
               {"effect": "follow", "camera": "broken", "color": "#00FF00"}]),
    )
    .await?;
    let camera = |name: &str, source: &str| json!({"name": name, "kind": "camera", "source": source, "width": 64, "height": 48});
    app.refused(
        "POST",
        "/api/v1/inputs",
        &admin,
        Some(camera("nonsense", "no_such_element_anywhere")),
        422,
        "validation_failed",
    )
    .await?;
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/inputs",
            Some(&admin),
            Some(
                json!({"name": "bad size", "kind": "camera", "source": "videotestsrc",
                        "width": 4}),
            ),
        )
        .await?;
    ensure!(
        status == 422
            && body["message"]
                .as_str()
                .is_some_and(|m| m.contains("analysis size")),
        "{status} {body}"
    );
    let inputs: Value = app.get(&admin, "/api/v1/inputs").await?;
    ensure!(
        inputs.as_array().is_some_and(Vec::is_empty),
        "nothing refused was kept: {inputs}"
    );

    // A source that ends after 10 frames, and one that parses but fails to start.
    let short = app
        .created(
            "/api/v1/inputs",
            &admin,
            camera(
                "short",
                "videotestsrc num-buffers=10 ! video/x-raw,width=64,height=48",
            ),
        )
        .await?;
    let broken = app
        .created(
            "/api/v1/inputs",
            &admin,
            camera(
                "broken",
                "filesrc location=/nonexistent/limelight.mp4 ! decodebin",
            ),
        )
        .await?;
    let ended = app
        .input_state_when(&admin, short, Duration::from_secs(10), |s| {
            s["reconnects"].as_u64() >= Some(1)
        })
        .await?;
    ensure!(
        ended["last_error"].as_str().is_some_and(|e| e.contains("ended"))
            // A source faster than real time: frames are dropped, the newest kept.
            && ended["frames"].as_u64() >= Some(1)
            && ended["frame"].as_u64() <= Some(9)
            && ended["blobs"].as_array().is_some_and(Vec::is_empty),
        "{ended}"
    );
    let failed = app
        .input_state_when(&admin, broken, Duration::from_secs(10), |s| {
            s["reconnects"].as_u64() >= Some(1)
        })
        .await?;
    ensure!(
        failed["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("failed"))
            && failed["frames"] == 0,
        "{failed}"
    );
    // The canvas went on all along: two seconds of packets, not one missing.
    let first = rx.next_data(Duration::from_secs(1)).await?;
    rx.unbroken_for(&first, Duration::from_secs(2)).await?;
    Ok(())
}

#[actix_rt::test]
async fn a_panicking_camera_restarts_and_no_canvas_notices() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    matrix_showing(
        &app,
        &admin,
        &rx,
        json!([{"effect": "solid", "color": "#000010"},
               {"effect": "follow", "camera": "flaky", "color": "#FF0000"}]),
    )
    .await?;
    // Its thread panics after every fifth frame.
    let source = format!(
        "videotestsrc is-live=true pattern=ball ! identity name={} ! \
         video/x-raw,width=64,height=48,framerate=30/1",
        limelight_engine::CAMERA_PANIC_NAME
    );
    let input = app
        .created(
            "/api/v1/inputs",
            &admin,
            json!({"name": "flaky", "kind": "camera", "source": source, "width": 64,
                   "height": 48, "min_seen": 1}),
        )
        .await?;
    let state = app
        .input_state_when(&admin, input, Duration::from_secs(15), |s| {
            s["restarts"].as_u64() >= Some(3) && s["frames"].as_u64() >= Some(12)
        })
        .await?;
    // Each restart's blob is a new one: ids are never given twice.
    ensure!(state["blobs"][0]["id"].as_u64() >= Some(3), "{state}");
    // It keeps failing and being restarted; the canvas goes on, not one packet
    // missing. (Packets queued while the state was read are passed over.)
    let now = Instant::now();
    let first = rx.until(Duration::from_secs(1), |p| p.at >= now).await?;
    rx.unbroken_for(&first, Duration::from_secs(1)).await?;
    Ok(())
}
