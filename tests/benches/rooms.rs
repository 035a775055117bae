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
//! the CPU time of each side per result delivered (pings included).
//!
//! ```text
//! cargo bench -p limelight-tests --bench rooms -- [--clients 5000] [--rounds 30] [--per-round]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use limelight_tests::{TestApp, Ws, next_of};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

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
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Self {
            clients: 5000,
            rounds: 30,
            per_round: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--clients" => args.clients = it.next().context("--clients N")?.parse()?,
                "--rounds" => args.rounds = it.next().context("--rounds N")?.parse()?,
                "--per-round" => args.per_round = true,
                "--bench" => {}
                other => bail!("unknown argument {other}"),
            }
        }
        Ok(args)
    }
}

fn main() -> Result<()> {
    let args = Args::parse()?;
    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("room-clients")
        .enable_all()
        .build()?;
    let result = actix_rt::System::new().block_on(run(args, clients.handle().clone()));
    clients.shutdown_background();
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
    let app = TestApp::spawn().await?;
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
        let url = format!("ws://{base}/api/v1/ws?token={}", tokens[c % PEOPLE]);
        let (arrivals_tx, joined_tx) = (arrivals_tx.clone(), joined_tx.clone());
        let (received, round_done, mut stop) =
            (received.clone(), round_done.clone(), stop_rx.clone());
        let clients = args.clients;
        clients_rt.spawn(async move {
            let connected = async {
                let _turn = gate.acquire().await?;
                // A small read buffer: tungstenite zeroes its whole buffer (128 KiB
                // by default) for every read, which would make the clients, not the
                // server, the bottleneck of this two-core measurement.
                let config = WebSocketConfig::default().read_buffer_size(4096);
                let mut ws = tokio_tungstenite::connect_async_with_config(url, Some(config), false)
                    .await?
                    .0;
                join(&mut ws, session).await?;
                Ok::<_, anyhow::Error>(ws)
            }
            .await;
            let mut ws = match connected {
                Ok(ws) => {
                    let _ = joined_tx.send(Ok(())).await;
                    ws
                }
                Err(e) => {
                    let _ = joined_tx.send(Err(e)).await;
                    return;
                }
            };
            let mut mine = Vec::new();
            loop {
                let msg = tokio::select! {
                    msg = ws.next() => msg,
                    _ = stop.changed() => break,
                };
                let Some(Ok(msg)) = msg else { break };
                let at = Instant::now();
                if let Message::Text(text) = msg
                    && text.contains("\"POLL_RESULTS\"")
                    && let Ok(results) = serde_json::from_str::<Results>(&text)
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
    let cpu_before = cpu_ns()?;
    for round in 1..=args.rounds {
        tokio::time::sleep(Duration::from_millis(200)).await;
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
    }
    let cpu_after = cpu_ns()?;
    stop_tx.send(true)?;
    let mut samples = Vec::new();
    let mut slowest = vec![Duration::ZERO; received.len()];
    let mut fastest = vec![Duration::MAX; received.len()];
    while let Some(mine) = arrivals.recv().await {
        for (seq, at) in mine {
            if let Some(Some(sent)) = sent_at.get(seq as usize) {
                let latency = at.saturating_duration_since(*sent);
                samples.push(latency);
                slowest[seq as usize] = slowest[seq as usize].max(latency);
                fastest[seq as usize] = fastest[seq as usize].min(latency);
            }
        }
    }
    let missing = args.clients * args.rounds as usize - samples.len();
    if args.per_round {
        for r in 1..received.len() {
            println!(
                "round {r}: first {:.1} ms, last {:.1} ms",
                fastest[r].as_secs_f64() * 1000.0,
                slowest[r].as_secs_f64() * 1000.0
            );
        }
    }
    let mut slowest = slowest.split_off(1);
    samples.sort();
    slowest.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
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
