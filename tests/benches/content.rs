//! Content benchmark, in one run against one real server (SQLite in a temporary
//! directory):
//!
//! - upload throughput: a noise PNG of about 100 MB sent over loopback through
//!   tus in 16 MiB chunks, against writing the same bytes to a file on the same
//!   disk and syncing it; the last chunk's answer also covers reading the whole
//!   file through (hash and decode) into an asset;
//! - render time per frame of an image layer on a canvas of 100,000 pixels
//!   (a 400 x 250 matrix at 40 fps), from the canvas's render histogram;
//! - with the `media` feature, the same for a video layer (a 1280 x 720 Theora
//!   video GStreamer makes), and the CPU its player threads take per second of
//!   playback.
//!
//! ```text
//! cargo bench -p limelight-tests --bench content --features media -- [--seconds 10]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, bail, ensure};
use limelight_tests::{TestApp, Tus, png_image, tus_metadata};
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

const CHUNK: usize = 16 << 20;
const WIDTH: u32 = 400;
const HEIGHT: u32 = 250;

fn main() -> Result<()> {
    let mut seconds = 10u64;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--seconds" => seconds = it.next().context("--seconds N")?.parse()?,
            "--bench" => {}
            other => bail!("unknown argument {other}"),
        }
    }
    actix_rt::System::new().block_on(run(Duration::from_secs(seconds)))
}

async fn run(window: Duration) -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let tus = Tus::new(app.server.addr(), &admin);

    // Noise does not compress: about 3 bytes a pixel.
    let big = png_image(5800, 5800, |x, y| {
        let mut n = x.wrapping_mul(0x9E37_79B9) ^ y.wrapping_mul(0x85EB_CA6B) ^ 0x2545_F491;
        n ^= n << 13;
        n ^= n >> 17;
        n ^= n << 5;
        [n as u8, (n >> 8) as u8, (n >> 16) as u8]
    })?;
    let mb = big.len() as f64 / 1e6;

    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let mut file = std::fs::File::create(dir.path().join("copy.png"))?;
    for chunk in big.chunks(CHUNK) {
        file.write_all(chunk)?;
    }
    file.sync_all()?;
    let copy = started.elapsed();

    let path = tus
        .created(big.len() as u64, &tus_metadata(&[("name", "Noise")]))
        .await?;
    let chunks: Vec<&[u8]> = big.chunks(CHUNK).collect();
    let started = Instant::now();
    let mut offset = 0u64;
    for chunk in &chunks[..chunks.len() - 1] {
        let answer = tus.patch(&path, offset, chunk).await?;
        ensure!(answer.status == 204, "{} {}", answer.status, answer.body);
        offset += chunk.len() as u64;
    }
    let streamed = started.elapsed();
    let last = Instant::now();
    let answer = tus.patch(&path, offset, chunks[chunks.len() - 1]).await?;
    ensure!(answer.status == 204, "{} {}", answer.status, answer.body);
    let completed = last.elapsed();
    let streamed_mb = offset as f64 / 1e6;
    println!(
        "upload of {mb:.1} MB of PNG in {} chunks of 16 MiB over loopback",
        chunks.len()
    );
    println!(
        "  tus PATCH: {:.0} MB/s ({:.2} s for all but the last chunk)",
        streamed_mb / streamed.as_secs_f64(),
        streamed.as_secs_f64()
    );
    println!(
        "  plain write + fsync on the same disk: {:.0} MB/s ({:.2} s)",
        mb / copy.as_secs_f64(),
        copy.as_secs_f64()
    );
    println!(
        "  last chunk and the whole file read through (sha256, decode) into an asset: {:.2} s",
        completed.as_secs_f64()
    );

    let (status, canvas) = app
        .call(
            "POST",
            "/api/v1/canvases",
            Some(&admin),
            Some(json!({"name": "Facade", "fps": 40,
                "geometry": {"kind": "matrix", "width": WIDTH, "height": HEIGHT},
                "output": {"universe": 1, "destinations": ["127.0.0.1:9"]}})),
        )
        .await?;
    ensure!(status == 201, "{status} {canvas}");
    let canvas = canvas["id"].as_i64().unwrap_or_default();

    let picture = png_image(1920, 1080, |x, y| {
        [(x / 8) as u8, (y / 5) as u8, ((x + y) / 12) as u8]
    })?;
    let image = tus
        .upload(&picture, &tus_metadata(&[("name", "Poster")]))
        .await?;
    approve(&app, &admin, image).await?;
    let layer = json!({"effect": "image", "asset": image, "fit": "cover"});
    let (cpu0, at0) = (process_cpu_s()?, Instant::now());
    let ms = render_ms(&app, &admin, canvas, "poster", layer, window).await?;
    let image_cpu = (process_cpu_s()? - cpu0) / at0.elapsed().as_secs_f64();
    println!("render per frame at {} pixels:", WIDTH * HEIGHT);
    println!("  image layer (1920 x 1080, cover): {ms:.3} ms");
    let _ = image_cpu;

    #[cfg(feature = "media")]
    {
        let video = tus
            .upload(
                &limelight_tests::test_video("ball", 20, [1280, 720], 25)?,
                &tus_metadata(&[("name", "Ball")]),
            )
            .await?;
        approve(&app, &admin, video).await?;
        let layer = json!({"effect": "video", "asset": video, "fit": "cover"});
        let (cpu0, at0) = (process_cpu_s()?, Instant::now());
        let ms = render_ms(&app, &admin, canvas, "ball", layer, window).await?;
        let video_cpu = (process_cpu_s()? - cpu0) / at0.elapsed().as_secs_f64();
        println!("  video layer (1280 x 720 Theora at 25 fps, cover): {ms:.3} ms");
        println!(
            "video decode (decode, convert, scale to {WIDTH} x {HEIGHT} at 40 fps, fit): {:.0} % of \
             a core per second of playback (the process: {:.0} % with the video, {:.0} % with the image)",
            (video_cpu - image_cpu) * 100.0,
            video_cpu * 100.0,
            image_cpu * 100.0
        );
    }
    Ok(())
}

async fn approve(app: &TestApp, admin: &str, asset: i64) -> Result<()> {
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/assets/{asset}/approve"),
            Some(admin),
            None,
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    Ok(())
}

/// Trigger a one-layer scene on `canvas`, let it warm up, then the mean render
/// time per frame over `window`.
async fn render_ms(
    app: &TestApp,
    admin: &str,
    canvas: i64,
    name: &str,
    layer: serde_json::Value,
    window: Duration,
) -> Result<f64> {
    app.created(
        "/api/v1/scenes",
        admin,
        json!({"name": name, "layers": [layer]}),
    )
    .await?;
    let (status, body) = app.trigger(admin, canvas, name).await?;
    ensure!(status == 200, "{status} {body}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let read = || async {
        let text = app.metrics().await?;
        let sum = |series: &str| {
            text.lines()
                .filter(|l| l.starts_with(series) && l.contains(&format!("canvas=\"{canvas}\"")))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>()
        };
        anyhow::Ok((
            sum("limelight_canvas_render_seconds_sum"),
            sum("limelight_canvas_render_seconds_count"),
        ))
    };
    let (s0, n0) = read().await?;
    tokio::time::sleep(window).await;
    let (s1, n1) = read().await?;
    ensure!(n1 > n0, "no frame rendered");
    Ok((s1 - s0) / (n1 - n0) * 1e3)
}

/// CPU time of this whole process so far, in seconds (`/proc/self/stat`).
fn process_cpu_s() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // After the command name in parentheses: utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Clock ticks are 100 a second on Linux.
    Ok((ticks(11) + ticks(12)) / 100.0)
}
