//! Camera benchmark, against one real server (SQLite in a temporary directory)
//! with the `media` feature: a camera whose GStreamer source is `udpsrc`, fed
//! raw grey frames (64 x 40, one datagram each) at 30 fps over loopback by this
//! process, so a frame's clock starts as its datagram leaves. A bright square
//! jumps from one side of the frame to the other; a `follow` layer on a 16 x 10
//! matrix at 40 fps lights the pixels under it. Each sample is the time from the
//! first frame with the square on the new side to the first E1.31 packet lit on
//! that side (p50, p99, max over `--samples` jumps at random phases of both
//! clocks). Target: p99 within one camera frame plus one canvas frame (58.3 ms).
//!
//! ```text
//! cargo bench -p limelight-tests --features media --bench cameras -- [--samples 300]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, bail, ensure};
use limelight_tests::bench::{percentile, threads_cpu_ns};
use limelight_tests::{DataPacket, Receiver, TestApp};
use serde_json::json;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const W: usize = 64;
const H: usize = 40;
const CAMERA_FPS: u32 = 30;
const CANVAS_FPS: u32 = 40;
const CW: usize = 16;

fn main() -> Result<()> {
    let mut samples = 300usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--samples" => samples = it.next().context("--samples N")?.parse()?,
            "--bench" => {}
            other => bail!("unknown argument {other}"),
        }
    }
    actix_rt::System::new().block_on(run(samples))
}

/// A frame with an 8 x 8 white square on the left (`right` false) or right.
fn frame(right: bool) -> Vec<u8> {
    let mut f = vec![0u8; W * H];
    let x0 = if right { 52 } else { 4 };
    for y in 16..24 {
        f[y * W + x0..y * W + x0 + 8].fill(255);
    }
    f
}

/// The red of the pixels under the left and right squares (row 4, columns 1
/// and 14 of the 16 x 10 map).
fn sides(p: &DataPacket) -> (u8, u8) {
    let red = |x: usize| p.slots.get(3 * (4 * CW + x)).copied().unwrap_or(0);
    (red(1), red(14))
}

/// What the camera sends: the side the square is on, behind a lock that a jump
/// holds while it sends its first frame.
struct Camera {
    /// Not connected: a frame sent before `udpsrc` listens is lost, and no
    /// error comes back for it on a later send.
    socket: UdpSocket,
    to: std::net::SocketAddr,
    right: Mutex<bool>,
    stop: AtomicBool,
}

impl Camera {
    fn send(&self, right: bool) -> Result<()> {
        self.socket.send_to(&frame(right), self.to)?;
        Ok(())
    }
}

async fn run(samples: usize) -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app
        .created(
            "/api/v1/canvases",
            &admin,
            json!({"name": "floor", "fps": CANVAS_FPS,
                   "geometry": {"kind": "matrix", "width": CW, "height": 10},
                   "output": {"universe": 1, "destinations": [rx.dest()?]}}),
        )
        .await?;
    let (status, body) = app
        .call(
            "POST",
            "/api/v1/scenes",
            Some(&admin),
            Some(json!({"name": "follow", "layers": [
                {"effect": "follow", "camera": "bench", "color": "#FF0000", "radius": 0.1}]})),
        )
        .await?;
    ensure!(status == 201, "{status} {body}");
    app.trigger(&admin, canvas, "follow").await?;

    // The sending socket first, so that the port picked for `udpsrc` is not the
    // one it is then given.
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let port = UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port();
    let input = app
        .created(
            "/api/v1/inputs",
            &admin,
            json!({"name": "bench", "kind": "camera", "width": W, "height": H,
                   "min_seen": 1, "max_distance": 100,
                   "source": format!("udpsrc address=127.0.0.1 port={port} \
                       caps=\"video/x-raw,format=GRAY8,width={W},height={H},framerate={CAMERA_FPS}/1\"")}),
        )
        .await?;
    let camera = Arc::new(Camera {
        socket,
        to: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        right: Mutex::new(false),
        stop: AtomicBool::new(false),
    });
    let steady = camera.clone();
    let sender =
        std::thread::Builder::new()
            .name("camera".into())
            .spawn(move || -> Result<()> {
                let period = Duration::from_secs(1) / CAMERA_FPS;
                let mut next = Instant::now();
                while !steady.stop.load(Ordering::Relaxed) {
                    {
                        let right = steady.right.lock().unwrap_or_else(PoisonError::into_inner);
                        steady.send(*right)?;
                    }
                    next += period;
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                }
                Ok(())
            })?;
    // The pipeline plays (udpsrc waits for its first datagram) and the square shows.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = app
            .get(&admin, &format!("/api/v1/inputs/{input}/state"))
            .await?;
        if state["blobs"].as_array().is_some_and(|b| b.len() == 1) {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the camera never saw the square: {state}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    rx.until(Duration::from_secs(2), |p| {
        let (l, r) = sides(p);
        l > 200 && r == 0
    })
    .await?;

    let cpu0 = threads_cpu_ns(|comm| comm != "camera")?;
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(samples);
    let mut right = false;
    for i in 0..samples {
        // Random phases of both clocks.
        let pause = 60 + (i * 7919) % 34;
        tokio::time::sleep(Duration::from_millis(pause as u64)).await;
        right = !right;
        let sent = {
            let mut side = camera.right.lock().unwrap_or_else(PoisonError::into_inner);
            *side = right;
            let sent = Instant::now();
            camera.send(right)?;
            sent
        };
        let p = rx
            .until(Duration::from_secs(2), |p| {
                let (l, r) = sides(p);
                if right {
                    r > 200 && l == 0
                } else {
                    l > 200 && r == 0
                }
            })
            .await?;
        latencies.push(p.at.saturating_duration_since(sent));
    }
    let elapsed = started.elapsed();
    let cpu_ns = threads_cpu_ns(|comm| comm != "camera")? - cpu0;
    camera.stop.store(true, Ordering::Relaxed);
    sender
        .join()
        .map_err(|_| anyhow::anyhow!("the camera thread panicked"))??;
    let state = app
        .get(&admin, &format!("/api/v1/inputs/{input}/state"))
        .await?;
    latencies.sort();
    let target = 1000.0 / f64::from(CAMERA_FPS) + 1000.0 / f64::from(CANVAS_FPS);
    println!(
        "camera frame arrival -> first E1.31 packet showing it ({samples} samples, camera {CAMERA_FPS} fps, \
         canvas {CANVAS_FPS} fps): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 <= {target:.1} ms)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    println!(
        "frames analysed {}, blob id {} throughout ({} entered); server CPU {:.1} % of one core over {:.1} s",
        state["frames"],
        state["blobs"][0]["id"],
        state["blob_events"]["entered"],
        cpu_ns as f64 / 1e9 / elapsed.as_secs_f64() * 100.0,
        elapsed.as_secs_f64(),
    );
    app.stop().await;
    Ok(())
}
