//! sACN on the wire: real canvases sending real E1.31 to a UDP socket.

use anyhow::{Result, ensure};
use limelight_engine::EngineEvent;
use limelight_shared::ids::CanvasId;
use limelight_tests::{Receiver, TestApp};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(3);

#[actix_rt::test]
async fn a_solid_scene_goes_out_at_the_canvas_rate_with_rising_sequence() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let operator = app.user("op", "operator").await?;
    let mut rx = Receiver::bind().await?;
    let id = app
        .canvas(
            &admin,
            "Test",
            170,
            40,
            json!({"universe": 7, "priority": 150, "destinations": [rx.dest()?]}),
        )
        .await?;
    app.solid_scene(&admin, "orange", "#FF8000").await?;
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{id}/scene"),
            Some(&operator),
            Some(json!({"scene": "orange", "fade_ms": 0})),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    ensure!(body["scene"] == "orange", "{body}");

    let first = rx
        .until(WAIT, |p| p.slots.starts_with(&[255, 128, 0]))
        .await?;
    ensure!(first.universe == 7 && first.priority == 150, "{first:?}");
    ensure!(first.slots.len() == 510, "170 pixels fill 510 slots");
    ensure!(first.slots.chunks(3).all(|px| px == [255, 128, 0]));
    ensure!(first.source_name == "Test");
    let mut last = first;
    let mut intervals = Vec::new();
    for _ in 0..40 {
        let p = rx.next_data(WAIT).await?;
        ensure!(
            p.sequence == last.sequence.wrapping_add(1),
            "sequence {} after {}",
            p.sequence,
            last.sequence
        );
        ensure!(p.slots.starts_with(&[255, 128, 0]));
        intervals.push(p.at.duration_since(last.at).as_secs_f64());
        last = p;
    }
    let mean = intervals.iter().sum::<f64>() / intervals.len() as f64;
    ensure!(
        (0.020..0.030).contains(&mean),
        "mean interval {mean}s at 40 fps"
    );
    Ok(())
}

#[actix_rt::test]
async fn blackout_streams_zeros_and_shutdown_terminates_the_stream() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    // 200 pixels: two universes.
    let id = app
        .canvas(
            &admin,
            "Two",
            200,
            30,
            json!({"universe": 20, "destinations": [rx.dest()?]}),
        )
        .await?;
    app.solid_scene(&admin, "white", "#FFFFFF").await?;
    app.call(
        "POST",
        &format!("/api/v1/canvases/{id}/scene"),
        Some(&admin),
        Some(json!({"scene": "white"})),
    )
    .await?;
    rx.until(WAIT, |p| p.slots.first() == Some(&255)).await?;
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{id}/blackout"),
            Some(&admin),
            Some(json!({"on": true})),
        )
        .await?;
    ensure!(status == 200 && body["blackout"] == true, "{status} {body}");
    rx.until(WAIT, |p| p.slots.iter().all(|s| *s == 0)).await?;
    // Zeros keep coming on both universes: blackout never goes silent.
    let mut seen = [0; 2];
    for _ in 0..20 {
        let p = rx.next_data(WAIT).await?;
        ensure!(
            p.slots.iter().all(|s| *s == 0),
            "non-zero slot during blackout"
        );
        seen[usize::from(p.universe - 20)] += 1;
    }
    ensure!(
        seen[0] >= 8 && seen[1] >= 8,
        "both universes keep streaming: {seen:?}"
    );

    app.stop().await;
    let mut terminated = [0; 2];
    loop {
        let p = rx.next_data(WAIT).await?;
        if p.terminated {
            terminated[usize::from(p.universe - 20)] += 1;
        }
        if terminated == [3, 3] {
            break;
        }
    }
    ensure!(
        rx.next_data(Duration::from_millis(300)).await.is_err(),
        "nothing after Stream_Terminated"
    );
    let _ = CanvasId(id);
    Ok(())
}

#[actix_rt::test]
async fn a_panicking_canvas_restarts_while_another_never_misses_a_frame() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx_a = Receiver::bind().await?;
    let mut rx_b = Receiver::bind().await?;
    let a = app
        .canvas(
            &admin,
            "A",
            10,
            40,
            json!({"universe": 1, "destinations": [rx_a.dest()?]}),
        )
        .await?;
    let b = app
        .canvas(
            &admin,
            "B",
            10,
            40,
            json!({"universe": 2, "destinations": [rx_b.dest()?]}),
        )
        .await?;
    app.solid_scene(&admin, "red", "#FF0000").await?;
    for id in [a, b] {
        app.call(
            "POST",
            &format!("/api/v1/canvases/{id}/scene"),
            Some(&admin),
            Some(json!({"scene": "red"})),
        )
        .await?;
    }
    rx_a.until(WAIT, |p| p.slots.first() == Some(&255)).await?;
    let mut last_b = rx_b.until(WAIT, |p| p.slots.first() == Some(&255)).await?;
    let skipped_before = app.server.engine().state(CanvasId(b)).await?.frames_skipped;

    app.server
        .engine()
        .inject_render_fault(CanvasId(a), Duration::ZERO)
        .await?;
    // A comes back from its stored state: red again, restarts counted.
    let mut restarted = false;
    for _ in 0..100 {
        let s = app.server.engine().state(CanvasId(a)).await;
        if s.as_ref()
            .is_ok_and(|s| s.restarts == 1 && s.scene.as_deref() == Some("red"))
        {
            restarted = true;
            break;
        }
        rx_a.next_data(WAIT).await?;
    }
    ensure!(restarted, "canvas A did not restart");
    let after = rx_a.next_data(WAIT).await?;
    ensure!(
        after.slots.starts_with(&[255, 0, 0]),
        "A shows its scene again"
    );

    // Meanwhile B's sequence never jumped: not one frame lost.
    for _ in 0..40 {
        let p = rx_b.next_data(WAIT).await?;
        ensure!(
            p.sequence == last_b.sequence.wrapping_add(1),
            "B lost a frame: {} after {}",
            p.sequence,
            last_b.sequence
        );
        last_b = p;
    }
    let b_state = app.server.engine().state(CanvasId(b)).await?;
    ensure!(
        b_state.restarts == 0 && b_state.frames_skipped == skipped_before,
        "{b_state:?}"
    );
    Ok(())
}

#[actix_rt::test]
async fn a_command_sent_during_a_restart_waits_for_it_and_applies() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let id = app.canvas_to(&admin, "Restarting", 10, 40, &rx).await?;
    app.solid_scene(&admin, "red", "#FF0000").await?;
    app.trigger(&admin, id, "red").await?;
    rx.until(WAIT, |p| p.slots.starts_with(&[255, 0, 0]))
        .await?;

    // The canvas fails at its next frame and stays in its restart for 600 ms.
    let mut events = app.server.engine().subscribe();
    let hold = Duration::from_millis(600);
    app.server
        .engine()
        .inject_render_fault(CanvasId(id), hold)
        .await?;
    loop {
        let event = tokio::time::timeout(WAIT, events.recv()).await??;
        if matches!(event, EngineEvent::CanvasRestarted { id: c, .. } if c == CanvasId(id)) {
            break;
        }
    }
    let sent = std::time::Instant::now();
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{id}/blackout"),
            Some(&admin),
            Some(json!({"on": true})),
        )
        .await?;
    let waited = sent.elapsed();
    ensure!(status == 200, "{status} {body}");
    ensure!(
        body["blackout"] == true && body["restarts"] == 1,
        "the answer comes from the restarted canvas: {body}"
    );
    ensure!(
        waited >= Duration::from_millis(300),
        "the command was answered after {waited:?}, before the restart ended"
    );
    rx.until(WAIT, |p| p.slots.starts_with(&[0, 0, 0])).await?;
    Ok(())
}

#[actix_rt::test]
async fn an_edited_scene_is_what_the_next_trigger_shows() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let id = app.canvas_to(&admin, "Edited", 10, 40, &rx).await?;
    let house =
        |color: &str| json!({"name": "house", "layers": [{"effect": "solid", "color": color}]});
    let (_, scene) = app
        .call(
            "POST",
            "/api/v1/scenes",
            Some(&admin),
            Some(house("#FF0000")),
        )
        .await?;
    app.trigger(&admin, id, "house").await?;
    rx.until(WAIT, |p| p.slots.starts_with(&[255, 0, 0]))
        .await?;

    let path = format!("/api/v1/scenes/{}", scene["id"]);
    let (status, body) = app
        .call("PUT", &path, Some(&admin), Some(house("#00FF00")))
        .await?;
    ensure!(status == 200, "{status} {body}");
    app.trigger(&admin, id, "house").await?;
    rx.until(WAIT, |p| p.slots.starts_with(&[0, 255, 0]))
        .await?;

    let (status, _) = app.call("DELETE", &path, Some(&admin), None).await?;
    ensure!(status == 204 || status == 200, "delete answered {status}");
    let (status, body) = app.trigger(&admin, id, "house").await?;
    ensure!(
        status == 404,
        "a deleted scene cannot be triggered: {status} {body}"
    );
    Ok(())
}

/// Scheduling policy and real-time priority of this process's threads whose name
/// starts with `prefix` (from `/proc/self/task/*/stat`, fields 41 and 40).
fn thread_policies(prefix: &str) -> Result<Vec<(u32, u32)>> {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task")? {
        let dir = task?.path();
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if !head
            .split_once('(')
            .is_some_and(|(_, comm)| comm.starts_with(prefix))
        {
            continue;
        }
        // `rest` starts at field 3 (state).
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u32>().ok());
        if let (Some(policy), Some(priority)) = (field(41), field(40)) {
            found.push((policy, priority));
        }
    }
    Ok(found)
}

#[actix_rt::test]
async fn frame_threads_run_under_real_time_scheduling_when_allowed() -> Result<()> {
    const SCHED_FIFO: u32 = 1;
    const CAP_SYS_NICE: u32 = 23;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let id = app.canvas_to(&admin, "Timed", 10, 40, &rx).await?;
    rx.next_data(WAIT).await?;

    let status = std::fs::read_to_string("/proc/self/status")?;
    let allowed = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|caps| u64::from_str_radix(caps.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_SYS_NICE) != 0);
    let sender = thread_policies(&format!("sacn-{id}"))?;
    let canvases = thread_policies("actix-rt|system")?;
    // Threads are the process's: under `cargo test` another server's canvas may
    // share this id, so every sender thread of that name must qualify.
    ensure!(!sender.is_empty(), "no sender thread for canvas {id}");
    if allowed {
        // The configured priority (40 by default).
        ensure!(
            sender.iter().all(|p| *p == (SCHED_FIFO, 40)),
            "sender thread: {sender:?}"
        );
        ensure!(
            canvases.contains(&(SCHED_FIFO, 40)),
            "the canvas thread runs under SCHED_FIFO: {canvases:?}"
        );
    } else {
        ensure!(sender.iter().all(|p| p.0 != SCHED_FIFO), "{sender:?}");
    }
    Ok(())
}

#[actix_rt::test]
async fn emergency_is_latched_across_a_restart() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let id = app
        .canvas(
            &admin,
            "Lobby",
            20,
            20,
            json!({"universe": 3, "destinations": [rx.dest()?]}),
        )
        .await?;
    app.call(
        "POST",
        &format!("/api/v1/canvases/{id}/blackout"),
        Some(&admin),
        Some(json!({"on": true})),
    )
    .await?;
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{id}/emergency"),
            Some(&admin),
            Some(json!({"on": true})),
        )
        .await?;
    ensure!(
        status == 200 && body["emergency"] == true,
        "{status} {body}"
    );
    // Full white even though blackout is on.
    rx.until(WAIT, |p| p.slots.iter().all(|s| *s == 255))
        .await?;

    let env = app.stop().await;
    let app = TestApp::spawn_in(env).await?;
    let admin = app.admin().await?;
    let state = app.canvas_state(&admin, id).await?;
    ensure!(
        state["emergency"] == true && state["blackout"] == true,
        "{state}"
    );
    let p = rx.until(WAIT, |p| !p.terminated).await?;
    ensure!(
        p.slots.iter().all(|s| *s == 255),
        "still white after restart"
    );

    app.call(
        "POST",
        &format!("/api/v1/canvases/{id}/emergency"),
        Some(&admin),
        Some(json!({"on": false})),
    )
    .await?;
    rx.until(WAIT, |p| p.slots.iter().all(|s| *s == 0)).await?;
    Ok(())
}

#[actix_rt::test]
async fn universe_sync_follows_each_frame_and_channel_order_applies() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let id = app
        .canvas(&admin, "Synced", 340, 20, json!({"universe": 50, "sync_universe": 900, "channel_order": "grb", "destinations": [rx.dest()?]}))
        .await?;
    app.solid_scene(&admin, "orange", "#FF8000").await?;
    app.call(
        "POST",
        &format!("/api/v1/canvases/{id}/scene"),
        Some(&admin),
        Some(json!({"scene": "orange"})),
    )
    .await?;
    rx.until(WAIT, |p| {
        p.slots.starts_with(&[128, 255, 0]) && p.universe == 51
    })
    .await?;
    // From here: universe 50, universe 51, sync 900, repeating.
    let mut order = Vec::new();
    for _ in 0..9 {
        order.push(match rx.next(WAIT).await? {
            limelight_tests::Packet::Data(d) => {
                ensure!(d.sync_address == 900);
                ensure!(d.slots.starts_with(&[128, 255, 0]), "GRB order");
                u32::from(d.universe)
            }
            limelight_tests::Packet::Sync(addr) => 100_000 + u32::from(addr),
        });
    }
    ensure!(
        order == [100_900, 50, 51, 100_900, 50, 51, 100_900, 50, 51],
        "{order:?}"
    );
    Ok(())
}

/// A fade curve: progress in time to progress in look.
type Curve = fn(f64) -> f64;
/// A fade's colour at a progress in look, 0-1 a channel.
type Mix = fn(f64) -> [f64; 3];

#[actix_rt::test]
async fn a_crossfade_on_the_wire_follows_its_curve_frame_by_frame() -> Result<()> {
    // On manual time: every frame of the fade is read, and each is exact.
    const FPS: u32 = 40;
    let (app, time) = TestApp::spawn_on_manual_time().await?;
    let admin = app.admin().await?;
    app.solid_scene(&admin, "Red", "#FF0000").await?;
    app.solid_scene(&admin, "Blue", "#0000FF").await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app.canvas_to(&admin, "Strip", 10, FPS, &rx).await?;
    time.frames_until(&mut rx, FPS, [0, 0, 0], 2).await?;
    // A fade starts on the first frame that shows it: frame k of the fade is k
    // periods into it.
    let period = Duration::from_secs(1) / FPS;
    // Black to red on an even pace, then red to blue slow at both ends.
    let fades: [(&str, &str, Curve, Mix); 2] = [
        ("Red", "linear", |p| p, |s| [s, 0.0, 0.0]),
        (
            "Blue",
            "ease_in_out",
            |p| p * p * (3.0 - 2.0 * p),
            |s| [1.0 - s, 0.0, s],
        ),
    ];
    for (scene, curve, shape, mix) in fades {
        let path = format!("/api/v1/canvases/{canvas}/scene");
        let body = json!({"scene": scene, "fade_ms": 1000, "curve": curve});
        let (status, state) = app.call("POST", &path, Some(&admin), Some(body)).await?;
        ensure!(status == 200, "{status} {state}");
        for k in 0..=FPS {
            time.advance(period);
            let p = rx.next_data(WAIT).await?;
            let at = (period * k).as_secs_f64().min(1.0);
            let want = mix(shape(at)).map(|c| (c * 255.0).round() as u8);
            ensure!(
                p.slots.get(..3) == Some(&want[..]),
                "{scene} ({curve}) frame {k}: {:?}, not {want:?}",
                p.slots.get(..3)
            );
        }
    }
    Ok(())
}

/// The slots of pixel `i` in a packet.
fn pixel(slots: &[u8], i: usize) -> [u8; 3] {
    [slots[i * 3], slots[i * 3 + 1], slots[i * 3 + 2]]
}

#[actix_rt::test]
async fn on_a_matrix_canvas_effects_run_in_canvas_coordinates_whatever_the_wiring() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    app.created(
        "/api/v1/scenes",
        &admin,
        json!({"name": "across", "layers": [{"effect": "rainbow", "speed": 0}]}),
    )
    .await?;
    app.created(
        "/api/v1/scenes",
        &admin,
        json!({"name": "down", "layers": [{"effect": "gradient", "angle": 90,
               "colors": ["#000000", "#FFFFFF"]}]}),
    )
    .await?;
    for serpentine in [false, true] {
        let mut rx = Receiver::bind().await?;
        let (status, canvas) = app
            .call(
                "POST",
                "/api/v1/canvases",
                Some(&admin),
                Some(json!({"name": format!("matrix {serpentine}"), "fps": 40,
                    "geometry": {"kind": "matrix", "width": 8, "height": 4, "origin": "top_left",
                                 "order": "rows", "serpentine": serpentine},
                    "output": {"universe": if serpentine { 2 } else { 1 },
                               "destinations": [rx.dest()?]}})),
            )
            .await?;
        ensure!(status == 201, "{status} {canvas}");
        ensure!(
            canvas["pixels"] == 32,
            "the geometry gives the count: {canvas}"
        );
        ensure!(canvas["geometry"]["width"] == 8, "{canvas}");
        let id = canvas["id"].as_i64().unwrap_or_default();
        // Where the wire's pixel i is on the matrix.
        let cell = |i: usize| {
            let (row, step) = (i / 8, i % 8);
            let x = if serpentine && row % 2 == 1 {
                7 - step
            } else {
                step
            };
            (x, row)
        };

        let (status, body) = app.trigger(&admin, id, "across").await?;
        ensure!(status == 200, "{status} {body}");
        let p = rx
            .until(Duration::from_secs(5), |p| {
                p.slots.len() >= 96 && pixel(&p.slots, 0) == [255, 0, 0]
            })
            .await?;
        // A rainbow across x: every pixel of a column has the column's colour.
        for i in 0..32 {
            let (x, _) = cell(i);
            let top = (0..8).find(|j| cell(*j).0 == x).unwrap_or_default();
            ensure!(
                pixel(&p.slots, i) == pixel(&p.slots, top),
                "serpentine {serpentine}: pixel {i} at column {x}"
            );
        }
        ensure!(pixel(&p.slots, 1) != pixel(&p.slots, 0));

        let (status, body) = app.trigger(&admin, id, "down").await?;
        ensure!(status == 200, "{status} {body}");
        let p = rx
            .until(Duration::from_secs(5), |p| {
                p.slots.len() >= 96 && pixel(&p.slots, 0) == [0, 0, 0]
            })
            .await?;
        // A gradient at 90 degrees: black on the top row, white on the bottom one,
        // whichever way the rows are wired.
        for i in 0..32 {
            let want = match cell(i).1 {
                0 => [0, 0, 0],
                1 => [85, 85, 85],
                2 => [170, 170, 170],
                _ => [255, 255, 255],
            };
            ensure!(
                pixel(&p.slots, i) == want,
                "pixel {i}: {:?}",
                pixel(&p.slots, i)
            );
        }
    }

    // A count that disagrees with the geometry, or a geometry out of range, is refused.
    for (body, says) in [
        (
            json!({"name": "wrong", "pixels": 30,
                   "geometry": {"kind": "matrix", "width": 8, "height": 4},
                   "output": {"universe": 100}}),
            "must match the geometry's 32 pixels",
        ),
        (
            json!({"name": "flat", "geometry": {"kind": "matrix", "width": 0, "height": 4},
                   "output": {"universe": 100}}),
            "geometry.width",
        ),
        (
            json!({"name": "none", "output": {"universe": 100}}),
            "needs pixels or a geometry",
        ),
    ] {
        let (status, err) = app
            .call("POST", "/api/v1/canvases", Some(&admin), Some(body))
            .await?;
        ensure!(
            status == 422
                && err["code"] == "validation_failed"
                && err["message"].as_str().is_some_and(|m| m.contains(says)),
            "{status} {err}"
        );
    }
    Ok(())
}
