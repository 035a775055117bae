//! Console benchmark: what the operator console costs the server, and how fast it
//! is live. The release `limelight` binary runs as its own process on the demo venue
//! (five canvases at 40 fps, 19,928 pixels, the demo show playing), SQLite in a
//! temporary directory; the clients run in this process on one thread.
//!
//! 1. Load: `--loads` times, a fresh connection fetches the page and its three
//!    files, logs in, opens the WebSocket as the console does (subprotocols
//!    `limelight.v1` and `bearer.<token>`), and subscribes to previews of every
//!    canvas at the console's own settings (15 fps, at most 2,048 pixels); "live"
//!    is when the first preview of every canvas has arrived.
//! 2. Idle: the server's CPU for `--seconds` with no console connected.
//! 3. Consoles: `--consoles` operators (each a user of its own) connect and preview
//!    every canvas; after a 2 s warm-up, `--seconds` are measured: preview frames per
//!    canvas per console, bytes per console, the server's CPU, and the frames the
//!    canvases skipped (their own count of missed frame deadlines).
//! 4. Changes: while those previews run, `--changes` times (every 250 ms) one more
//!    console moves the Main Stairs master, alternately over its WebSocket and over
//!    REST; the sample is the time until each of the other consoles has the
//!    `canvas_state` that shows it.
//!
//! The server's CPU is read from `/proc/<pid>/stat` (user and system time of every
//! thread: frame clocks, senders, HTTP workers, the database, and threads that have
//! ended, such as the password hashers').
//!
//! ```text
//! cargo bench -p limelight-tests --bench console -- [--consoles 20] [--seconds 20] [--loads 20] [--changes 40]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use limelight_tests::process::ServerProcess;
use limelight_tests::{ADMIN_PASSWORD, TestEnv};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The console's own preview settings (`api/console/console.js`).
const PREVIEW_FPS: u64 = 15;
const PREVIEW_PIXELS: u32 = 2048;
/// The files the page loads.
const FILES: [&str; 4] = [
    "/",
    "/console/console.css",
    "/console/console.js",
    "/console/icon.svg",
];

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Args {
    consoles: usize,
    seconds: u64,
    loads: usize,
    changes: u64,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Self {
            consoles: 20,
            seconds: 20,
            loads: 20,
            changes: 40,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || it.next().with_context(|| format!("{flag} N"));
            match flag.as_str() {
                "--consoles" => args.consoles = value()?.parse()?,
                "--seconds" => args.seconds = value()?.parse()?,
                "--loads" => args.loads = value()?.parse()?,
                "--changes" => args.changes = value()?.parse()?,
                "--bench" => {}
                other => bail!("unknown argument {other}"),
            }
        }
        ensure!(args.consoles > 0 && args.seconds > 0, "nothing to measure");
        Ok(args)
    }
}

fn main() -> Result<()> {
    let args = Args::parse()?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(args))
}

/// A canvas of the demo venue.
struct Canvas {
    id: i64,
    name: String,
}

async fn run(args: Args) -> Result<()> {
    let env = TestEnv::new().await?;
    let server = ServerProcess::start_with(
        env!("CARGO_BIN_EXE_limelight-server"),
        &env,
        &[("LIMELIGHT_SEED_DEMO_VENUE", "true")],
    )
    .await?;
    let pid = server.pid().context("the server has no pid")?;
    let admin = server.admin().await?;
    let canvases: Vec<Canvas> = server
        .get(&admin, "/api/v1/canvases")
        .await?
        .as_array()
        .context("no canvas list")?
        .iter()
        .map(|c| Canvas {
            id: c["id"].as_i64().unwrap_or_default(),
            name: c["name"].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    ensure!(canvases.len() == 5, "the demo venue has five canvases");
    let ids: Vec<i64> = canvases.iter().map(|c| c.id).collect();
    let stairs = canvases
        .iter()
        .find(|c| c.name == "Main Stairs")
        .context("no Main Stairs")?
        .id;

    // 1. Load.
    let mut page = Vec::new();
    let mut login = Vec::new();
    let mut live = Vec::new();
    let mut page_bytes = 0;
    for _ in 0..args.loads {
        let one = load(&server.base, &ids).await?;
        page.push(one.page);
        login.push(one.login);
        live.push(one.live);
        page_bytes = one.bytes;
    }

    // 2. Idle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = Window::open(&server, &admin, pid).await?;
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let idle = idle.close(&server, &admin, pid).await?;

    // 3. Consoles.
    let (expect_tx, expect_rx) = watch::channel(None::<(u64, f64)>);
    let mut consoles = Vec::new();
    let (arrivals_tx, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..args.consoles {
        let token = server.user(&format!("console{n}"), "operator").await?;
        let mut ws = open(&server.base, &token).await?;
        subscribe(&mut ws, &ids).await?;
        let counters = Arc::new(Counters::new(&ids));
        consoles.push(counters.clone());
        tokio::spawn(read(
            ws,
            counters,
            stairs,
            expect_rx.clone(),
            arrivals_tx.clone(),
        ));
    }
    drop(arrivals_tx);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before: Vec<_> = consoles.iter().map(|c| c.read()).collect();
    let busy = Window::open(&server, &admin, pid).await?;
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let busy = busy.close(&server, &admin, pid).await?;
    let after: Vec<_> = consoles.iter().map(|c| c.read()).collect();

    // 4. Changes.
    let mut sender = open(&server.base, &server.user("changer", "operator").await?).await?;
    let mut sent = HashMap::new();
    for round in 1..=args.changes {
        tokio::time::sleep(Duration::from_millis(250)).await;
        // A level no earlier round left behind.
        let level = 20.0 + (round % 70) as f64;
        expect_tx.send(Some((round, level)))?;
        sent.insert(round, Instant::now());
        if round % 2 == 1 {
            sender
                .send(Message::text(
                    json!({"type": "master", "request_id": round.to_string(),
                           "canvas": stairs, "level": level})
                    .to_string(),
                ))
                .await?;
        } else {
            let (status, body) = server
                .call(
                    "POST",
                    &format!("/api/v1/canvases/{stairs}/master"),
                    Some(&admin),
                    Some(json!({"level": level})),
                )
                .await?;
            ensure!(status == 200, "{status} {body}");
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    expect_tx.send(None)?;
    drop(expect_tx);
    let mut over_ws = Vec::new();
    let mut over_rest = Vec::new();
    while let Some((round, at)) = arrivals.recv().await {
        if let Some(from) = sent.get(&round) {
            let latency = at.saturating_duration_since(*from);
            if round % 2 == 1 {
                over_ws.push(latency);
            } else {
                over_rest.push(latency);
            }
        }
    }
    server.kill().await?;

    // The report.
    let secs = args.seconds as f64;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    page.sort();
    login.sort();
    live.sort();
    println!(
        "\nconsole on the demo venue ({} canvases at 40 fps), release build, loopback\n",
        canvases.len()
    );
    println!(
        "| load ({} times, fresh connection) | p50 | max |",
        args.loads
    );
    println!("|---|---:|---:|");
    println!(
        "| page and its files ({:.1} KiB) | {:.1} ms | {:.1} ms |",
        page_bytes as f64 / 1024.0,
        ms(page[page.len() / 2]),
        ms(page[page.len() - 1])
    );
    println!(
        "| the login call (the password hash is slow on purpose) | {:.1} ms | {:.1} ms |",
        ms(login[login.len() / 2]),
        ms(login[login.len() - 1])
    );
    println!(
        "| from the start to every canvas's first preview (page, login, WebSocket, snapshot, subscribe) | {:.1} ms | {:.1} ms |",
        ms(live[live.len() / 2]),
        ms(live[live.len() - 1])
    );
    let mut fps = Vec::new();
    let mut bytes = Vec::new();
    for (b, a) in before.iter().zip(&after) {
        bytes.push((a.bytes - b.bytes) as f64 / secs);
        for (fb, fa) in b.frames.iter().zip(&a.frames) {
            fps.push((fa - fb) as f64 / secs);
        }
    }
    fps.sort_by(f64::total_cmp);
    bytes.sort_by(f64::total_cmp);
    let cpu = |w: &Measured| w.cpu.as_secs_f64() / secs * 100.0;
    println!(
        "\n| consoles | preview fps per canvas (min / median) | bytes/s per console (median) | server CPU | server CPU per console | frames skipped | frames sent |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| 0 | – | – | {:.1} % | – | {} | {} |",
        cpu(&idle),
        idle.skipped,
        idle.sent
    );
    println!(
        "| {} | {:.1} / {:.1} (of {PREVIEW_FPS}) | {:.0} KiB/s | {:.1} % | {:.2} % | {} | {} |",
        args.consoles,
        fps[0],
        fps[fps.len() / 2],
        bytes[bytes.len() / 2] / 1024.0,
        cpu(&busy),
        (cpu(&busy) - cpu(&idle)) / args.consoles as f64,
        busy.skipped,
        busy.sent
    );
    let expected = args.consoles * args.changes.div_ceil(2) as usize;
    for (what, samples) in [("WebSocket", &mut over_ws), ("REST", &mut over_rest)] {
        samples.sort();
        let expected = if what == "REST" {
            args.consoles * (args.changes / 2) as usize
        } else {
            expected
        };
        if samples.is_empty() {
            println!("\nno change over {what} arrived");
            continue;
        }
        println!(
            "\nmaster changed over {what}, seen by {} consoles: {} of {expected} arrivals, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            args.consoles,
            samples.len(),
            ms(samples[samples.len() / 2]),
            ms(samples[(samples.len() - 1) * 99 / 100]),
            ms(samples[samples.len() - 1]),
        );
    }
    Ok(())
}

/// One console load on a fresh connection.
struct Load {
    /// The page and its files.
    page: Duration,
    /// Their bytes.
    bytes: usize,
    /// The login call alone (the password hash is meant to be slow).
    login: Duration,
    /// From the start to every canvas's first preview.
    live: Duration,
}

async fn load(base: &str, canvases: &[i64]) -> Result<Load> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let start = Instant::now();
    let page = http.get(format!("{base}/")).send().await?.bytes().await?;
    // The browser asks for the rest once it has read the page, all at once.
    let files = futures_util::future::try_join_all(FILES[1..].iter().map(|f| {
        let http = http.clone();
        async move { http.get(format!("{base}{f}")).send().await?.bytes().await }
    }))
    .await?;
    let to_page = start.elapsed();
    let bytes = page.len() + files.iter().map(|f| f.len()).sum::<usize>();
    let logging_in = Instant::now();
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("no token")?;
    let login = logging_in.elapsed();
    let mut ws = open(base, token).await?;
    subscribe(&mut ws, canvases).await?;
    let mut seen = std::collections::HashSet::new();
    while seen.len() < canvases.len() {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) if b.len() >= 9 => {
                seen.insert(i64::from_be_bytes(b[1..9].try_into()?));
            }
            Ok(Some(Ok(_))) => {}
            _ => bail!("no preview of every canvas"),
        }
    }
    let live = start.elapsed();
    ws.close(None).await.ok();
    Ok(Load {
        page: to_page,
        bytes,
        login,
        live,
    })
}

/// A console's WebSocket, opened as the page opens it, read up to its snapshot.
async fn open(base: &str, token: &str) -> Result<Ws> {
    let mut request =
        format!("ws://{}/api/v1/ws", base.trim_start_matches("http://")).into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        format!("limelight.v1, bearer.{token}").parse()?,
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    loop {
        let Some(msg) = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .context("no snapshot in time")?
        else {
            bail!("the WebSocket closed before its snapshot");
        };
        if let Message::Text(text) = msg?
            && text.contains("\"snapshot\"")
        {
            return Ok(ws);
        }
    }
}

/// Ask for previews of `canvases` at the console's settings.
async fn subscribe(ws: &mut Ws, canvases: &[i64]) -> Result<()> {
    ws.send(Message::text(
        json!({"type": "subscribe_preview", "request_id": "previews", "canvases": canvases,
               "fps": PREVIEW_FPS, "max_pixels": PREVIEW_PIXELS, "format": 2})
        .to_string(),
    ))
    .await?;
    Ok(())
}

/// What one console has received.
struct Counters {
    ids: Vec<i64>,
    bytes: AtomicU64,
    frames: Vec<AtomicU64>,
}

struct Count {
    bytes: u64,
    frames: Vec<u64>,
}

impl Counters {
    fn new(ids: &[i64]) -> Self {
        Self {
            ids: ids.to_vec(),
            bytes: AtomicU64::new(0),
            frames: ids.iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn read(&self) -> Count {
        Count {
            bytes: self.bytes.load(Ordering::Relaxed),
            frames: self
                .frames
                .iter()
                .map(|f| f.load(Ordering::Relaxed))
                .collect(),
        }
    }
}

/// A console reading: it counts what arrives and notes when the change of the
/// current round (a master `level` on `canvas`) first shows.
async fn read(
    mut ws: Ws,
    counters: Arc<Counters>,
    canvas: i64,
    expect: watch::Receiver<Option<(u64, f64)>>,
    arrivals: tokio::sync::mpsc::UnboundedSender<(u64, Instant)>,
) {
    let mut seen = 0;
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            Message::Binary(b) => {
                counters.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                if b.len() >= 9 {
                    let id = i64::from_be_bytes(b[1..9].try_into().unwrap_or_default());
                    if let Some(i) = counters.ids.iter().position(|c| *c == id) {
                        counters.frames[i].fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Message::Text(text) => {
                counters
                    .bytes
                    .fetch_add(text.len() as u64, Ordering::Relaxed);
                let Some((round, level)) = *expect.borrow() else {
                    if expect.has_changed().is_err() {
                        break;
                    }
                    continue;
                };
                if round == seen || !text.contains("\"canvas_state\"") {
                    continue;
                }
                let Ok(m) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if m["canvas"]["id"] == canvas && m["canvas"]["master"].as_f64() == Some(level) {
                    seen = round;
                    let _ = arrivals.send((round, Instant::now()));
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
}

/// A stretch of time being measured: the server's CPU and the canvases' frames.
struct Window {
    cpu: Duration,
    skipped: u64,
    sent: u64,
}

struct Measured {
    cpu: Duration,
    skipped: u64,
    sent: u64,
}

impl Window {
    async fn open(server: &ServerProcess, token: &str, pid: u32) -> Result<Self> {
        let (skipped, sent) = frames(server, token).await?;
        Ok(Self {
            cpu: cpu(pid)?,
            skipped,
            sent,
        })
    }

    async fn close(self, server: &ServerProcess, token: &str, pid: u32) -> Result<Measured> {
        let cpu = cpu(pid)?.saturating_sub(self.cpu);
        let (skipped, sent) = frames(server, token).await?;
        Ok(Measured {
            cpu,
            skipped: skipped - self.skipped,
            sent: sent - self.sent,
        })
    }
}

/// Frames skipped and sent so far, summed over every canvas.
async fn frames(server: &ServerProcess, token: &str) -> Result<(u64, u64)> {
    let states = server.get(token, "/api/v1/state").await?;
    let states = states.as_array().context("no states")?;
    let sum = |field: &str| states.iter().filter_map(|s| s[field].as_u64()).sum();
    Ok((sum("frames_skipped"), sum("frames_sent")))
}

/// CPU time so far of process `pid`, user and system, threads that have ended
/// included (`/proc/<pid>/stat`, in clock ticks of 10 ms).
fn cpu(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("no command name in /proc/<pid>/stat")?
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15, the 12th and 13th after the name.
    let ticks: u64 = fields
        .get(11..13)
        .context("a short /proc/<pid>/stat")?
        .iter()
        .map(|f| f.parse::<u64>())
        .sum::<Result<u64, _>>()?;
    Ok(Duration::from_millis(ticks * 10))
}
