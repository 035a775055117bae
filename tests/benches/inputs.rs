//! Inputs benchmark, in one run against one real server (SQLite in a temporary
//! directory) and Debian's mosquitto on loopback:
//!
//! - latency: a value published to the broker -> the first E1.31 packet that
//!   carries it, on a 10-pixel canvas at 40 fps whose red is the value (p50, p99,
//!   max over `--samples` values, one every 60 ms, at random phases of the frame);
//! - a storm: 10,000 messages a second over 1,000 topics (four inputs of 250
//!   bindings) for `--seconds`: messages taken, frames skipped, and the CPU per
//!   message of the whole server (its threads over the same time without the
//!   storm subtracted).
//!
//! The publisher is a minimal MQTT 3.1.1 client over one TCP connection (CONNECT,
//! then QoS 0 PUBLISH packets), so a sample's clock starts as its bytes leave.
//!
//! ```text
//! cargo bench -p limelight-tests --bench inputs -- [--samples 300] [--seconds 10]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, bail, ensure};
use limelight_tests::bench::{percentile, threads_cpu_ns};
use limelight_tests::{Broker, Receiver, TestApp, metric};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const TOPICS: usize = 1000;
const PER_INPUT: usize = 250;
const RATE: usize = 10_000;

fn main() -> Result<()> {
    let (mut samples, mut seconds) = (300usize, 10u64);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--samples" => samples = it.next().context("--samples N")?.parse()?,
            "--seconds" => seconds = it.next().context("--seconds N")?.parse()?,
            "--bench" => {}
            other => bail!("unknown argument {other}"),
        }
    }
    actix_rt::System::new().block_on(run(samples, Duration::from_secs(seconds)))
}

/// A bare MQTT 3.1.1 publisher.
struct Publisher(TcpStream);

impl Publisher {
    fn connect(broker: &Broker, client_id: &str) -> Result<Self> {
        let addr = broker.url().trim_start_matches("mqtt://").to_owned();
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0b0000_0010, 0, 60];
        body.extend_from_slice(&(client_id.len() as u16).to_be_bytes());
        body.extend_from_slice(client_id.as_bytes());
        stream.write_all(&packet(0x10, &body))?;
        let mut connack = [0u8; 4];
        stream.read_exact(&mut connack)?;
        ensure!(connack[0] == 0x20 && connack[3] == 0, "CONNACK {connack:?}");
        Ok(Self(stream))
    }

    /// Append a QoS 0 PUBLISH of `payload` on `topic` to `out`.
    fn encode(out: &mut Vec<u8>, topic: &str, payload: &[u8]) {
        let mut body = Vec::with_capacity(2 + topic.len() + payload.len());
        body.extend_from_slice(&(topic.len() as u16).to_be_bytes());
        body.extend_from_slice(topic.as_bytes());
        body.extend_from_slice(payload);
        out.extend_from_slice(&packet(0x30, &body));
    }

    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.0.write_all(bytes)?;
        Ok(())
    }
}

/// A packet: fixed header (type, remaining length as a varint) and body.
fn packet(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

async fn connected(app: &TestApp, token: &str, input: i64) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let state = app
            .get(token, &format!("/api/v1/inputs/{input}/state"))
            .await?;
        if state["connection"] == "connected" {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "input {input} never connected: {state}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// CPU time of every thread of this process but the storm's publisher
/// (nanoseconds).
fn server_cpu_ns() -> Result<u64> {
    threads_cpu_ns(|comm| comm != "storm")
}

async fn run(samples: usize, window: Duration) -> Result<()> {
    let broker = Broker::start()?;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let mut rx = Receiver::bind().await?;
    let canvas = app.canvas_to(&admin, "sensor wall", 10, 40, &rx).await?;
    let scene = json!({"name": "follow", "layers": [
        {"effect": "solid", "color": "#FF0000", "opacity": {"input": "probe"}}]});
    let (status, body) = app
        .call("POST", "/api/v1/scenes", Some(&admin), Some(scene))
        .await?;
    ensure!(status == 201, "{status} {body}");
    app.trigger(&admin, canvas, "follow").await?;
    let probe = app
        .created(
            "/api/v1/inputs",
            &admin,
            json!({"name": "probe", "kind": "mqtt", "broker": broker.url(),
                   "bindings": [{"name": "probe", "topic": "bench/probe", "range": [0, 255]}]}),
        )
        .await?;
    let mut storm_inputs = Vec::new();
    for i in 0..TOPICS / PER_INPUT {
        let bindings: Vec<Value> = (i * PER_INPUT..(i + 1) * PER_INPUT)
            .map(|t| {
                json!({"name": format!("storm_{t}"), "topic": format!("storm/{t}"),
                            "pointer": "/v", "range": [0, 100]})
            })
            .collect();
        let id = app
            .created(
                "/api/v1/inputs",
                &admin,
                json!({"name": format!("storm {i}"), "kind": "mqtt", "broker": broker.url(),
                       "bindings": bindings}),
            )
            .await?;
        storm_inputs.push(id);
    }
    connected(&app, &admin, probe).await?;
    for id in &storm_inputs {
        connected(&app, &admin, *id).await?;
    }

    // Latency: each value differs from the one before, so its first packet is
    // the first that carries it.
    let mut publisher = Publisher::connect(&broker, "bench-probe")?;
    let mut latencies = Vec::with_capacity(samples);
    let mut last = 0u8;
    for i in 0..samples {
        let value = (17 + (i * 37) % 230) as u8;
        let value = if value == last { value + 1 } else { value };
        last = value;
        let mut bytes = Vec::new();
        Publisher::encode(&mut bytes, "bench/probe", value.to_string().as_bytes());
        // A random phase of the 25 ms frame.
        let pause = 50 + (i * 7919) % 25;
        tokio::time::sleep(Duration::from_millis(pause as u64)).await;
        let sent = Instant::now();
        publisher.send(&bytes)?;
        let p = rx
            .until(Duration::from_secs(2), |p| p.slots.first() == Some(&value))
            .await?;
        latencies.push(p.at.saturating_duration_since(sent));
    }
    latencies.sort();
    println!(
        "MQTT publish -> first E1.31 packet with the value ({samples} samples, 40 fps): \
         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 <= 30 ms)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );

    // The same time without a storm, then with one.
    let skipped = format!("limelight_canvas_frames_skipped_total{{canvas=\"{canvas}\"");
    let cpu0 = server_cpu_ns()?;
    tokio::time::sleep(window).await;
    let idle_ns = server_cpu_ns()? - cpu0;
    let skipped0 = metric(&app.metrics().await?, &skipped);
    let received0 = received(&app, &admin, &storm_inputs).await?;
    let stormer = Publisher::connect(&broker, "bench-storm")?;
    let storm = std::thread::Builder::new()
        .name("storm".into())
        .spawn(move || storm_publish(stormer, window))?;
    let cpu1 = server_cpu_ns()?;
    let sent = loop {
        if storm.is_finished() {
            break storm
                .join()
                .map_err(|_| anyhow::anyhow!("the storm thread panicked"))??;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Let the last messages arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let storm_ns = server_cpu_ns()? - cpu1;
    let taken = received(&app, &admin, &storm_inputs).await? - received0;
    let skipped1 = metric(&app.metrics().await?, &skipped);
    let extra = storm_ns.saturating_sub(idle_ns + idle_ns / 20);
    println!(
        "storm: {sent} messages sent over {TOPICS} topics in {:.1} s ({:.0}/s), {taken} taken, \
         {} frames skipped; server CPU {:.2} s against {:.2} s idle: {:.1} µs a message",
        window.as_secs_f64(),
        sent as f64 / window.as_secs_f64(),
        skipped1 - skipped0,
        storm_ns as f64 / 1e9,
        idle_ns as f64 / 1e9,
        extra as f64 / 1e3 / taken.max(1) as f64,
    );
    app.stop().await;
    Ok(())
}

/// Messages the storm inputs took so far.
async fn received(app: &TestApp, token: &str, inputs: &[i64]) -> Result<u64> {
    let mut total = 0;
    for id in inputs {
        let state = app
            .get(token, &format!("/api/v1/inputs/{id}/state"))
            .await?;
        total += state["messages"].as_u64().unwrap_or(0);
    }
    Ok(total)
}

/// Publish `RATE` messages a second round the topics for `window`, in batches
/// every 10 ms; how many were sent.
fn storm_publish(mut publisher: Publisher, window: Duration) -> Result<u64> {
    let batch = RATE / 100;
    let started = Instant::now();
    let mut sent = 0u64;
    let mut bytes = Vec::with_capacity(batch * 32);
    for tick in 0u32.. {
        let due = started + Duration::from_millis(10) * tick;
        if due >= started + window {
            break;
        }
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        bytes.clear();
        for _ in 0..batch {
            let topic = format!("storm/{}", sent as usize % TOPICS);
            let payload = format!("{{\"v\": {}}}", sent % 100);
            Publisher::encode(&mut bytes, &topic, payload.as_bytes());
            sent += 1;
        }
        publisher.send(&bytes)?;
    }
    Ok(sent)
}
