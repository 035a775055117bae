//! Room fan-out benchmark: how long a poll result takes to reach every client in a
//! session room. A real server runs in this process (SQLite in a temporary directory,
//! or PostgreSQL when `LIMELIGHT_TEST_POSTGRES` is set).
//!
//! `--clients` WebSocket clients (fifty attendees, each on many connections) join one
//! room and keep reading, on their own one-thread runtime. Then, `--rounds` times, a
//! voter changes its vote over its own WebSocket; each client notes when the
//! `POLL_RESULTS` of that round (known by its `seq`) arrives. A sample is the time
//! from sending the vote to one client receiving the result: it covers storing the
//! vote, the room's fan-out and the connection's delivery. A round starts 200 ms
//! after every client has the last one, so each vote finds no results sent in the
//! last 100 ms and goes out at once. Clients keep their arrival times to themselves
//! until the end, so the bookkeeping adds no wake-up per message.
//!
//! The clients share the machine's cores with the server, so the table also gives
//! the CPU time of each side per result delivered (pings included). The server's
//! HTTP workers are pinned to cores of their own (`http_pin_workers`), as on a
//! machine that runs Limelight alone; `--unpinned` leaves them to the scheduler.
//! `--per-round` prints each round's spread, its longest silence between two
//! arrivals and the time the hypervisor took from the machine meanwhile.
//!
//! ```text
//! cargo bench -p limelight-tests --bench rooms -- [--clients 5000] [--rounds 30] [--per-round] [--unpinned]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, bail, ensure};
use futures_util::SinkExt;
use limelight_tests::{TestApp, Ws, next_of};
use serde::Deserialize;
use serde_json::{Value, json};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

const PEOPLE: usize = 50;

/// The part of a `POLL_RESULTS` a client reads.
#[derive(Deserialize)]
struct Results {
    poll: ResultsSeq,
}

#[derive(Deserialize)]
struct ResultsSeq {
    seq: u64,
}

struct Args {
    clients: usize,
    rounds: u64,
    /// Print each round's first and last arrival.
    per_round: bool,
    /// Leave the HTTP workers where the scheduler puts them.
    unpinned: bool,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Self {
            clients: 5000,
            rounds: 30,
            per_round: false,
            unpinned: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--clients" => args.clients = it.next().context("--clients N")?.parse()?,
                "--rounds" => args.rounds = it.next().context("--rounds N")?.parse()?,
                "--per-round" => args.per_round = true,
                "--unpinned" => args.unpinned = true,
                "--bench" => {}
                other => bail!("unknown argument {other}"),
            }
        }
        Ok(args)
    }
}

fn main() -> Result<()> {
    let args = Args::parse()?;
    // The clients run on one thread of their own, on a single-threaded runtime: the
    // leanest way for one core's worth of clients to read their sockets.
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let (finish, finished) = tokio::sync::oneshot::channel::<()>();
    let clients = std::thread::Builder::new()
        .name("room-clients".into())
        .spawn(move || -> Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handle_tx.send(rt.handle().clone())?;
            rt.block_on(finished)?;
            Ok(())
        })?;
    let handle = handle_rx
        .recv()
        .context("the clients' runtime did not start")?;
    let result = actix_rt::System::new().block_on(run(args, handle));
    let _ = finish.send(());
    clients
        .join()
        .map_err(|_| anyhow::anyhow!("the clients' thread panicked"))??;
    result
}

async fn send(ws: &mut Ws, value: Value) -> Result<()> {
    ws.send(Message::Text(value.to_string().into())).await?;
    Ok(())
}

/// Join the room: the ack and the snapshot.
async fn join(ws: &mut Ws, session: i64) -> Result<()> {
    send(
        ws,
        json!({"type": "join_room", "request_id": "j", "session": session}),
    )
    .await?;
    next_of(ws, "ROOM_SNAPSHOT").await?;
    Ok(())
}

async fn run(args: Args, clients_rt: tokio::runtime::Handle) -> Result<()> {
    let env = limelight_tests::TestEnv::new().await?;
    let mut config = env.config();
    config.http_pin_workers = !args.unpinned;
    let app = TestApp::spawn_with(env, config).await?;
    let admin = app.admin().await?;
    let session = app
        .bookable_session(&admin, json!({"capacity": 10}))
        .await?;
    let tokens = app.attendees("fan", PEOPLE).await?;
    let base = app.base.trim_start_matches("http://").to_owned();

    // The clients, on their own runtime. Each keeps the (seq, arrival) of every
    // result to itself until the end; the last client to receive a round's result
    // wakes the voter, so bookkeeping costs no wake-up per message.
    let received: Arc<Vec<AtomicUsize>> =
        Arc::new((0..=args.rounds).map(|_| AtomicUsize::new(0)).collect());
    let round_done = Arc::new(Notify::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel::<Vec<(u64, Instant)>>();
    let (joined_tx, mut joined) = mpsc::channel::<Result<()>>(args.clients);
    // At most 100 clients connect at a time, as people arriving would.
    let gate = Arc::new(tokio::sync::Semaphore::new(100));
    for c in 0..args.clients {
        let gate = gate.clone();
        let (base, token) = (base.clone(), tokens[c % PEOPLE].clone());
        let (arrivals_tx, joined_tx) = (arrivals_tx.clone(), joined_tx.clone());
        let (received, round_done, mut stop) =
            (received.clone(), round_done.clone(), stop_rx.clone());
        let clients = args.clients;
        clients_rt.spawn(async move {
            let connected = async {
                let _turn = gate.acquire().await?;
                let mut client = RoomClient::connect(&base, &token).await?;
                client.join(session).await?;
                Ok::<_, anyhow::Error>(client)
            }
            .await;
            let mut client = match connected {
                Ok(client) => {
                    let _ = joined_tx.send(Ok(())).await;
                    client
                }
                Err(e) => {
                    let _ = joined_tx.send(Err(e)).await;
                    return;
                }
            };
            let mut mine = Vec::new();
            // Registered once, not once per message.
            let stopped = stop.changed();
            tokio::pin!(stopped);
            loop {
                let text = tokio::select! {
                    biased;
                    text = client.next_text() => text,
                    _ = &mut stopped => break,
                };
                let Ok(Some(text)) = text else { break };
                let at = Instant::now();
                let text = client.text(text);
                if memchr::memmem::find(text, b"\"POLL_RESULTS\"").is_some()
                    && let Ok(results) = serde_json::from_slice::<Results>(text)
                    && let Some(count) = received.get(results.poll.seq as usize)
                {
                    mine.push((results.poll.seq, at));
                    if count.fetch_add(1, Ordering::AcqRel) + 1 == clients {
                        round_done.notify_one();
                    }
                }
            }
            let _ = arrivals_tx.send(mine);
        });
    }
    drop((arrivals_tx, joined_tx));
    let connecting = Instant::now();
    for _ in 0..args.clients {
        joined.recv().await.context("a client task ended")??;
    }
    let connect_time = connecting.elapsed();

    let (status, poll) = app
        .call(
            "POST",
            &format!("/api/v1/sessions/{session}/room/polls"),
            Some(&admin),
            Some(json!({"question": "Encore?", "options": ["yes", "no"]})),
        )
        .await?;
    ensure!(status == 201, "{status} {poll}");
    let poll_id = poll["id"].clone();
    let voter_token = app.attendee("voter").await?;
    let mut voter = limelight_tests::connect(&app, &voter_token).await?;
    join(&mut voter, session).await?;

    let mut sent_at = vec![None; received.len()];
    let mut stolen = vec![Duration::ZERO; received.len()];
    let cpu_before = cpu_ns()?;
    for round in 1..=args.rounds {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let steal_before = steal()?;
        sent_at[round as usize] = Some(Instant::now());
        send(
            &mut voter,
            json!({"type": "submit_poll_response", "request_id": round.to_string(),
                   "session": session, "poll": poll_id, "choices": [round % 2]}),
        )
        .await?;
        // Until every client has this round's result, or 10 s have passed (a wake-up
        // left over from an earlier, late round is passed over).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while received[round as usize].load(Ordering::Acquire) < args.clients {
            if tokio::time::timeout_at(deadline, round_done.notified())
                .await
                .is_err()
            {
                break;
            }
        }
        stolen[round as usize] = steal()?.saturating_sub(steal_before);
    }
    let cpu_after = cpu_ns()?;
    stop_tx.send(true)?;
    let mut samples = Vec::new();
    let mut rounds = vec![Vec::new(); received.len()];
    while let Some(mine) = arrivals.recv().await {
        for (seq, at) in mine {
            if let Some(Some(sent)) = sent_at.get(seq as usize) {
                let latency = at.saturating_duration_since(*sent);
                samples.push(latency);
                rounds[seq as usize].push(latency);
            }
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut slowest = Vec::new();
    let missing = args.clients * args.rounds as usize - samples.len();
    for (r, round) in rounds.iter_mut().enumerate().skip(1) {
        round.sort();
        let (Some(first), Some(last)) = (round.first(), round.last()) else {
            continue;
        };
        slowest.push(*last);
        if args.per_round {
            // The longest silence between two arrivals, and how many had arrived.
            let (gap, before) = round
                .windows(2)
                .enumerate()
                .map(|(i, w)| (w[1] - w[0], i + 1))
                .max()
                .unwrap_or_default();
            println!(
                "round {r}: first {:.1} ms, p50 {:.1} ms, p99 {:.1} ms, last {:.1} ms, \
                 longest gap {:.1} ms after {before} arrivals, steal {:.1} ms",
                ms(*first),
                ms(round[round.len() / 2]),
                ms(round[(round.len() - 1) * 99 / 100]),
                ms(*last),
                ms(gap),
                ms(stolen[r]),
            );
        }
    }
    samples.sort();
    slowest.sort();
    let at = |q: f64| ms(samples[((samples.len() - 1) as f64 * q) as usize]);
    let resyncs = app
        .metrics()
        .await?
        .lines()
        .filter(|l| l.starts_with("limelight_room_resyncs_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum::<u64>();
    println!(
        "\nroom fan-out on {}: {} clients ({} people), {} rounds, joined in {:.1} s\n",
        app.server.engine().backend(),
        args.clients,
        PEOPLE,
        args.rounds,
        connect_time.as_secs_f64()
    );
    let per_result = |(before, after): (u64, u64)| {
        after.saturating_sub(before) as f64 / 1000.0 / samples.len().max(1) as f64
    };
    println!(
        "| clients | samples | p50 | p90 | p99 | max | last client (median round) | missed | resyncs | server CPU per result | clients' CPU per result |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {missing} | {resyncs} | {:.1} µs | {:.1} µs |",
        args.clients,
        samples.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        ms(slowest[slowest.len() / 2]),
        per_result((cpu_before.0, cpu_after.0)),
        per_result((cpu_before.1, cpu_after.1)),
    );
    Ok(())
}

/// CPU time so far of the server's threads (HTTP workers, arbiters, database
/// threads) and of the clients' runtime, from `/proc/self/task/*/schedstat`
/// (nanoseconds). It covers the pauses between rounds too, so it includes pings.
fn cpu_ns() -> Result<(u64, u64)> {
    let (mut server, mut clients) = (0, 0);
    for task in std::fs::read_dir("/proc/self/task")? {
        let dir = task?.path();
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(dir.join("comm")),
            std::fs::read_to_string(dir.join("schedstat")),
        ) else {
            continue;
        };
        let ns = stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
        // Thread names are cut at 15 bytes: "actix-rt|system" is an HTTP worker or
        // an arbiter.
        if comm.starts_with("room-clients") {
            clients += ns;
        } else if comm.starts_with("actix-rt|system")
            || comm.starts_with("sqlite")
            || comm.starts_with("actix-server")
        {
            server += ns;
        }
    }
    Ok((server, clients))
}

/// Time the hypervisor has taken from this machine's CPUs so far (`steal` in
/// `/proc/stat`, in clock ticks of 10 ms).
fn steal() -> Result<Duration> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let cpu = stat.lines().next().context("an empty /proc/stat")?;
    let ticks: u64 = cpu
        .split_whitespace()
        .nth(8)
        .context("no steal in /proc/stat")?
        .parse()?;
    Ok(Duration::from_millis(ticks * 10))
}

/// A benchmark client: a WebSocket client that does no more per message than find
/// the frame in its buffer (text is all the server sends a room member) and answer
/// pings. The clients share the two cores with the server, so every microsecond a
/// client spends per message is taken from the server's fan-out; a general-purpose
/// client (tungstenite) spends about twice as much.
struct RoomClient {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes `start..end` of `buf` are received and not yet taken.
    start: usize,
    end: usize,
}

/// WebSocket opcodes (RFC 6455, section 5.2).
const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;

impl RoomClient {
    /// Upgrade a connection to `/api/v1/ws` as the holder of `token`.
    async fn connect(base: &str, token: &str) -> Result<Self> {
        let mut stream = TcpStream::connect(base).await?;
        stream.set_nodelay(true)?;
        let request = format!(
            "GET /api/v1/ws?token={token} HTTP/1.1\r\nHost: {base}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: bGltZWxpZ2h0LWJlbmNoIQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut client = Self {
            stream,
            buf: vec![0; 4096],
            start: 0,
            end: 0,
        };
        let head_end = loop {
            if let Some(at) = memchr::memmem::find(&client.buf[..client.end], b"\r\n\r\n") {
                break at + 4;
            }
            ensure!(
                client.fill().await? > 0,
                "the server closed during the upgrade"
            );
        };
        let head = String::from_utf8_lossy(&client.buf[..head_end]);
        ensure!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
        client.start = head_end;
        Ok(client)
    }

    /// Join the room and wait for its snapshot.
    async fn join(&mut self, session: i64) -> Result<()> {
        let join = json!({"type": "join_room", "request_id": "j", "session": session});
        self.send(TEXT, join.to_string().as_bytes()).await?;
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let text = self
                    .next_text()
                    .await?
                    .context("closed before the snapshot")?;
                if memchr::memmem::find(self.text(text), b"\"ROOM_SNAPSHOT\"").is_some() {
                    return Ok(());
                }
            }
        })
        .await
        .context("no ROOM_SNAPSHOT in time")?
    }

    /// The next text message (its place in the buffer, valid until the next call),
    /// or `None` once the server closes. Pings are answered on the way.
    async fn next_text(&mut self) -> Result<Option<Range<usize>>> {
        loop {
            if let Some((opcode, payload)) = self.frame()? {
                match opcode {
                    TEXT => return Ok(Some(payload)),
                    PING => {
                        let ping = self.buf[payload].to_vec();
                        self.send(PONG, &ping).await?;
                    }
                    CLOSE => return Ok(None),
                    _ => {}
                }
                continue;
            }
            if self.fill().await? == 0 {
                return Ok(None);
            }
        }
    }

    fn text(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }

    /// Take the next whole frame from the buffer: its opcode and payload.
    fn frame(&mut self) -> Result<Option<(u8, Range<usize>)>> {
        let bytes = &self.buf[self.start..self.end];
        if bytes.len() < 2 {
            return Ok(None);
        }
        ensure!(bytes[0] & 0x80 != 0, "a fragmented message");
        ensure!(bytes[1] & 0x80 == 0, "a masked frame from the server");
        let (header, len) = match bytes[1] & 0x7F {
            126 if bytes.len() >= 4 => (4, usize::from(u16::from_be_bytes([bytes[2], bytes[3]]))),
            127 if bytes.len() >= 10 => {
                let mut len = [0; 8];
                len.copy_from_slice(&bytes[2..10]);
                (10, usize::try_from(u64::from_be_bytes(len))?)
            }
            126 | 127 => return Ok(None),
            len => (2, usize::from(len)),
        };
        if bytes.len() < header + len {
            if header + len > self.buf.len() {
                self.buf.resize(header + len, 0);
            }
            return Ok(None);
        }
        let opcode = bytes[0] & 0x0F;
        let payload = self.start + header..self.start + header + len;
        self.start = payload.end;
        Ok(Some((opcode, payload)))
    }

    /// Read what has arrived into the buffer, after moving what is left of it to
    /// the front; the number of bytes read.
    async fn fill(&mut self) -> Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }

    /// Send one frame, masked as a client's frames must be.
    async fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<()> {
        const MASK: [u8; 4] = [0x4c, 0x69, 0x6d, 0x65];
        let mut frame = vec![0x80 | opcode];
        match payload.len() {
            len @ 0..=125 => frame.push(0x80 | len as u8),
            len @ 126..=0xFFFF => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&MASK);
        frame.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, m)| b ^ m));
        self.stream.write_all(&frame).await?;
        Ok(())
    }
}
