//! Output benchmark: how many universes one Limelight process keeps at 44 Hz with no
//! skipped frame, what rendering and sending cost per frame, how regular the frames
//! arrive, and how long an operator command takes to show up in E1.31 on the wire.
//!
//! A real server runs in this process (SQLite in a temporary directory, or PostgreSQL
//! when `LIMELIGHT_TEST_POSTGRES` is set), with canvases sending unicast to one UDP
//! socket on 127.0.0.1 that decodes every packet. Canvases are added step by step
//! (all at the same fps, each showing a moving two-layer look); each step is measured
//! over a window after a warm-up:
//!
//! - skipped frames (the canvas clock passed a deadline) and frames dropped in front
//!   of a busy sender, from the server's own `/metrics`;
//! - sequence gaps seen by the receiver (packets lost on the way);
//! - the interval between frames of each canvas as the receiver sees them;
//! - CPU time of the canvas and sender threads per rendered frame;
//! - operator command to the first packet of the new look, half over REST and half
//!   over the WebSocket, on the first canvas, while the rest keeps running.
//!
//! ```text
//! cargo bench -p limelight-tests --bench output -- [--steps 500,1000,2000]
//!     [--seconds 10] [--per-canvas 50] [--fps 44] [--warmup 2]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, anyhow, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use limelight_tests::{TestApp, recv_stamped};
use nix::sys::socket::{setsockopt, sockopt};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// RGB pixels in a universe.
const PIXELS_PER_UNIVERSE: u32 = 170;
/// Looks the probe canvas switches between, and their first three slots: colours
/// the moving look never shows (it is fully saturated), so a change to one of them
/// can only come from the command.
const PROBE_LOOKS: [(&str, &str, [u8; 3]); 2] = [
    ("probe-a", "#123456", [0x12, 0x34, 0x56]),
    ("probe-b", "#654321", [0x65, 0x43, 0x21]),
];

#[derive(Debug)]
struct Args {
    steps: Vec<u32>,
    seconds: u64,
    warmup: u64,
    per_canvas: u32,
    fps: u32,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Self {
            steps: vec![500, 1000, 1500, 2000, 3000],
            seconds: 10,
            warmup: 2,
            per_canvas: 50,
            fps: 44,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            // `cargo bench` passes `--bench` to every bench binary.
            if flag == "--bench" {
                continue;
            }
            let value = it.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
            match flag.as_str() {
                "--steps" => {
                    args.steps = value
                        .split(',')
                        .map(|s| s.trim().parse::<u32>())
                        .collect::<Result<_, _>>()
                        .context("--steps takes universe counts, e.g. 500,1000")?;
                }
                "--seconds" => args.seconds = value.parse()?,
                "--warmup" => args.warmup = value.parse()?,
                "--per-canvas" => args.per_canvas = value.parse()?,
                "--fps" => args.fps = value.parse()?,
                other => bail!("unknown option {other}; see the top of tests/benches/output.rs"),
            }
        }
        ensure!(args.per_canvas >= 1, "--per-canvas must be at least 1");
        ensure!(args.seconds >= 1, "--seconds must be at least 1");
        ensure!((1..=60).contains(&args.fps), "--fps must be 1-60");
        Ok(args)
    }
}

fn main() -> Result<()> {
    let args = Args::parse()?;
    actix_rt::System::new().block_on(run(args))
}

async fn run(args: Args) -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let (capture, mut changes) = Capture::start()?;
    let dest = capture.dest.to_string();

    let (status, body) = app
        .call(
            "POST",
            "/api/v1/scenes",
            Some(&admin),
            Some(json!({"name": "bench-look", "layers": [
                {"effect": "rainbow", "speed": 0.5, "scale": 2},
                {"effect": "sparkle", "color": "#FFFFFF", "density": 0.02, "speed": 10,
                 "blend": "screen", "opacity": 0.5},
            ]})),
        )
        .await?;
    ensure!(
        status == 201,
        "creating the bench scene failed: {status} {body}"
    );
    for (name, color, _) in PROBE_LOOKS {
        app.solid_scene(&admin, name, color).await?;
    }
    let operator = app.user("bench-operator", "operator").await?;
    let mut ws = Console::connect(&app, &operator).await?;

    let period_ms = 1000.0 / f64::from(args.fps);
    println!(
        "Limelight output benchmark: canvases of {} universes ({} px) at {} fps \
         (period {period_ms:.3} ms), {} s per step on {} ({} CPUs)",
        args.per_canvas,
        args.per_canvas * PIXELS_PER_UNIVERSE,
        args.fps,
        args.seconds,
        app.server.engine().backend(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!(
        "{:>9} {:>8} {:>8} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "universes",
        "canvases",
        "skipped",
        "dropped",
        "lost",
        "int p1",
        "int p50",
        "int p99",
        "int max",
        "render",
        "cpu/frame",
        "cpu/univ",
        "rest p50",
        "rest p99",
        "ws p50",
        "ws p99",
        "steal",
    );

    let mut canvases: Vec<i64> = Vec::new();
    let mut probe = None;
    // Commands sent so far: the probe alternates looks, so each one changes it.
    let mut n = 0usize;
    for &step in &args.steps {
        while (canvases.len() as u32) * args.per_canvas < step {
            let first = 1 + canvases.len() as u32 * args.per_canvas;
            let id = app
                .canvas(
                    &admin,
                    &format!("bench-{}", canvases.len() + 1),
                    args.per_canvas * PIXELS_PER_UNIVERSE,
                    args.fps,
                    json!({"universe": first, "priority": 100, "destinations": [dest]}),
                )
                .await?;
            trigger(&app, &admin, id, "bench-look").await?;
            let first = u16::try_from(first)?;
            capture.track(first);
            if probe.is_none() {
                capture.watch(first);
                probe = Some(id);
            }
            canvases.push(id);
        }
        let probe = probe.ok_or_else(|| anyhow!("no canvas to probe"))?;
        tokio::time::sleep(Duration::from_secs(args.warmup)).await;

        let before = Counters::read(&app).await?;
        capture.reset();
        let window_end = Instant::now() + Duration::from_secs(args.seconds);
        let (mut rest, mut ws_latencies) = (Vec::new(), Vec::new());
        while Instant::now() < window_end {
            let (scene, _, rgb) = PROBE_LOOKS[n % 2];
            // Wall-clock time, as the kernel stamps packets on arrival.
            let sent = SystemTime::now();
            let over_rest = n % 4 < 2;
            if over_rest {
                trigger(&app, &operator, probe, scene).await?;
            } else {
                ws.trigger(probe, scene).await?;
            }
            let shown = wait_for(&mut changes, rgb, sent).await?;
            let ms = shown.duration_since(sent).unwrap_or_default().as_secs_f64() * 1e3;
            if over_rest {
                &mut rest
            } else {
                &mut ws_latencies
            }
            .push(ms);
            n += 1;
            // Commands land at every phase of the frame clock.
            let pause = 40 + (n * 37) % 60;
            tokio::time::sleep(Duration::from_millis(pause as u64)).await;
        }
        let window = capture.take();
        let after = Counters::read(&app).await?;
        let frames = after.frames.saturating_sub(before.frames).max(1);
        let cpu = after.engine_cpu_ns.saturating_sub(before.engine_cpu_ns) as f64 / 1e6;
        let render = (after.render_seconds - before.render_seconds) * 1e3 / frames as f64;
        let steal = after.steal_ticks.saturating_sub(before.steal_ticks) as f64 * 100.0
            / after.cpu_ticks.saturating_sub(before.cpu_ticks).max(1) as f64;
        let mut intervals = window.intervals_ms;
        let universes = canvases.len() as u32 * args.per_canvas;
        println!(
            "{:>9} {:>8} {:>8} {:>8} {:>7} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>10.3} {:>10.3} {:>10.4} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>5.1}%",
            universes,
            canvases.len(),
            after.skipped.saturating_sub(before.skipped),
            after.dropped.saturating_sub(before.dropped),
            window.lost,
            percentile(&mut intervals, 0.01),
            percentile(&mut intervals, 0.50),
            percentile(&mut intervals, 0.99),
            percentile(&mut intervals, 1.0),
            render,
            cpu / frames as f64,
            cpu / (frames as f64 * f64::from(args.per_canvas)),
            percentile(&mut rest, 0.50),
            percentile(&mut rest, 0.99),
            percentile(&mut ws_latencies, 0.50),
            percentile(&mut ws_latencies, 0.99),
            steal,
        );
        if window.packets == 0 {
            bail!("no packets arrived during the window");
        }
    }
    println!(
        "skipped/dropped: frames the engine did not send on time; lost: sequence gaps at \
         the receiver; int: ms between frames of a canvas at the receiver; render: ms to render a canvas \
         frame; cpu: ms of \
         canvas + sender thread time per canvas frame and per universe-frame; rest, ws: ms \
         from an operator command (REST or WebSocket) to the first packet of the new look; \
         steal: CPU time the hypervisor took from this machine"
    );
    capture.stop();
    app.stop().await;
    Ok(())
}

async fn trigger(app: &TestApp, token: &str, canvas: i64, scene: &str) -> Result<()> {
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/canvases/{canvas}/scene"),
            Some(token),
            Some(json!({"scene": scene, "fade_ms": 0})),
        )
        .await?;
    ensure!(status == 200, "trigger failed: {status} {body}");
    Ok(())
}

/// The first time the probe universe carries `rgb` after `since`.
async fn wait_for(changes: &mut Changes, rgb: [u8; 3], since: SystemTime) -> Result<SystemTime> {
    loop {
        let (seen, at) = tokio::time::timeout(Duration::from_secs(5), changes.recv())
            .await
            .context("the new look never reached the wire")?
            .ok_or_else(|| anyhow!("the receiver stopped"))?;
        if seen == rgb && at >= since {
            return Ok(at);
        }
    }
}

/// The `p` quantile (0-1) of `values`, nearest rank; 0 when empty.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// An operator console on the WebSocket.
struct Console {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
}

impl Console {
    async fn connect(app: &TestApp, token: &str) -> Result<Self> {
        let url = format!("ws://{}/api/v1/ws?token={token}", app.server.addr());
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Self { ws, next_id: 0 })
    }

    /// Trigger a scene and wait for its ack.
    async fn trigger(&mut self, canvas: i64, scene: &str) -> Result<()> {
        self.next_id += 1;
        let request_id = self.next_id.to_string();
        let msg = json!({"type": "trigger_scene", "request_id": request_id,
                         "canvas": canvas, "scene": scene, "fade_ms": 0});
        self.ws.send(Message::text(msg.to_string())).await?;
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                .await
                .context("no WebSocket answer in time")?
                .ok_or_else(|| anyhow!("the WebSocket closed"))??;
            let Message::Text(text) = msg else { continue };
            let v: Value = serde_json::from_str(&text)?;
            if v["request_id"] == request_id.as_str() {
                ensure!(v["type"] == "ack", "command refused: {v}");
                return Ok(());
            }
        }
    }
}

/// Server counters summed over every canvas, and CPU time of the engine's threads.
#[derive(Debug)]
struct Counters {
    frames: u64,
    skipped: u64,
    dropped: u64,
    render_seconds: f64,
    engine_cpu_ns: u64,
    /// Machine CPU time (all CPUs) and the part stolen by the hypervisor, in ticks.
    cpu_ticks: u64,
    steal_ticks: u64,
}

impl Counters {
    async fn read(app: &TestApp) -> Result<Self> {
        let text = app.metrics().await?;
        let sum = |name: &str| -> f64 {
            text.lines()
                .filter(|l| l.starts_with(name) && l[name.len()..].starts_with('{'))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>()
        };
        let stat = machine_cpu()?;
        Ok(Self {
            frames: sum("limelight_canvas_frames_total") as u64,
            skipped: sum("limelight_canvas_frames_skipped_total") as u64,
            dropped: sum("limelight_output_frames_dropped_total") as u64,
            render_seconds: sum("limelight_canvas_render_seconds_sum"),
            engine_cpu_ns: engine_cpu_ns()?,
            cpu_ticks: stat.iter().sum(),
            steal_ticks: stat.get(7).copied().unwrap_or(0),
        })
    }
}

/// The machine's CPU time counters (`cpu` line of `/proc/stat`): user, nice,
/// system, idle, iowait, irq, softirq, steal.
fn machine_cpu() -> Result<Vec<u64>> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat
        .lines()
        .next()
        .ok_or_else(|| anyhow!("empty /proc/stat"))?;
    Ok(line
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|f| f.parse().ok())
        .collect())
}

/// CPU time of the threads that render and send: the canvas arbiters and the sACN
/// sender threads of this process (nanoseconds).
fn engine_cpu_ns() -> Result<u64> {
    // Thread names are cut at 15 bytes: "actix-rt|system" is an arbiter.
    limelight_tests::bench::threads_cpu_ns(|comm| {
        comm.starts_with("sacn-") || comm.starts_with("actix-rt|system")
    })
}

/// What the receiver saw during a window.
#[derive(Debug, Default)]
struct Window {
    packets: u64,
    lost: u64,
    intervals_ms: Vec<f64>,
}

/// What the receiver thread shares with the benchmark.
#[derive(Debug, Default)]
struct Shared {
    window: Window,
    /// First universe of each canvas: its packets time that canvas's frames.
    firsts: HashSet<u16>,
    /// The universe whose colour changes are reported.
    probe: Option<u16>,
}

/// A stand-in for the pixel controllers: one UDP socket on loopback, decoded on a
/// thread of its own.
struct Capture {
    dest: std::net::SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    join: Option<std::thread::JoinHandle<()>>,
}

/// Colour changes of the probe universe and when they arrived.
type Changes = mpsc::UnboundedReceiver<([u8; 3], SystemTime)>;

impl Capture {
    fn start() -> Result<(Self, Changes)> {
        let socket = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )?;
        // As much buffer as the system allows (net.core.rmem_max).
        socket.set_recv_buffer_size(64 << 20)?;
        socket.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        let socket: UdpSocket = socket.into();
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)?;
        let dest = socket.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::unbounded_channel();
        let join = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::Builder::new()
                .name("bench-receiver".to_owned())
                .spawn(move || receive(&socket, &shared, &stop, &tx))?
        };
        let capture = Self {
            dest,
            shared,
            stop,
            join: Some(join),
        };
        Ok((capture, rx))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Time the frames of the canvas starting at `universe`.
    fn track(&self, universe: u16) {
        self.lock().firsts.insert(universe);
    }

    /// Report colour changes of `universe`'s first pixel.
    fn watch(&self, universe: u16) {
        self.lock().probe = Some(universe);
    }

    fn reset(&self) {
        self.lock().window = Window::default();
    }

    fn take(&self) -> Window {
        std::mem::take(&mut self.lock().window)
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(join) = self.join.take() {
            let _ = join.join();
        }
    }
}

/// Per-universe receive state.
#[derive(Debug, Default)]
struct Seen {
    sequence: Option<u8>,
    last_at: Option<SystemTime>,
    rgb: [u8; 3],
}

/// The fields of an E1.31 data packet the benchmark needs, read at their offsets
/// (ANSI E1.31-2018, table 4-1) after checking the packet is one. The full decode
/// (`sacn::packet`) is what the tests use; at 100,000 packets a second the
/// receiver must cost the machine as little as it can.
#[derive(Debug)]
struct DataHeader {
    sequence_number: u8,
    stream_terminated: bool,
    universe: u16,
    rgb: [u8; 3],
}

impl DataHeader {
    fn decode(p: &[u8]) -> Option<Self> {
        const ACN_PACKET_ID: &[u8; 12] = b"ASC-E1.17\0\0\0";
        const VECTOR_ROOT_E131_DATA: [u8; 4] = [0, 0, 0, 4];
        const VECTOR_E131_DATA_PACKET: [u8; 4] = [0, 0, 0, 2];
        const STREAM_TERMINATED: u8 = 0x40;
        if p.len() < 129
            || p.get(4..16)? != ACN_PACKET_ID
            || p.get(18..22)? != VECTOR_ROOT_E131_DATA
            || p.get(40..44)? != VECTOR_E131_DATA_PACKET
            || p[125] != 0
        {
            return None;
        }
        Some(Self {
            sequence_number: p[111],
            stream_terminated: p[112] & STREAM_TERMINATED != 0,
            universe: u16::from_be_bytes([p[113], p[114]]),
            rgb: [p[126], p[127], p[128]],
        })
    }
}

fn receive(
    socket: &UdpSocket,
    shared: &Mutex<Shared>,
    stop: &AtomicBool,
    changes: &mpsc::UnboundedSender<([u8; 3], SystemTime)>,
) {
    let mut buf = [0u8; 1500];
    let mut seen: HashMap<u16, Seen> = HashMap::new();
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, at)) = recv_stamped(socket, &mut buf) else {
            continue;
        };
        let Some(data) = DataHeader::decode(&buf[..n]) else {
            continue;
        };
        if data.stream_terminated {
            continue;
        }
        let rgb = data.rgb;
        let state = seen.entry(data.universe).or_default();
        let mut shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
        let w = &mut shared.window;
        w.packets += 1;
        let gap = state
            .sequence
            .map(|prev| data.sequence_number.wrapping_sub(prev));
        if let Some(gap @ 2..128) = gap {
            w.lost += u64::from(gap - 1);
        }
        state.sequence = Some(data.sequence_number);
        if shared.firsts.contains(&data.universe) {
            // Only between consecutive packets: a loss on the receiving side is
            // not a late frame.
            if gap == Some(1)
                && let Some(prev) = state.last_at
                && let Ok(d) = at.duration_since(prev)
            {
                shared.window.intervals_ms.push(d.as_secs_f64() * 1e3);
            }
            state.last_at = Some(at);
        }
        if shared.probe == Some(data.universe) && state.rgb != rgb {
            state.rgb = rgb;
            let _ = changes.send((rgb, at));
        }
    }
}
