//! Room fan-out benchmark: how long a poll result takes to reach every client in a
//! session room. A real server runs in this process (SQLite in a temporary directory,
//! or PostgreSQL when `LIMELIGHT_TEST_POSTGRES` is set).
//!
//! `--clients` WebSocket clients (fifty attendees, each on many connections) join one
//! room and keep reading, on their own one-thread runtime. Then, `--rounds` times, a
//! voter changes its vote over its own WebSocket; each client notes when the
//! `POLL_RESULTS` of that round (known by its `seq`) arrives. A sample is the time
//! from sending the vote to one client receiving the result: it covers storing the
//! vote, the room's fan-out and the connection's delivery. Rounds are 200 ms apart,
//! so each vote finds no results sent in the last 100 ms and goes out at once.
//!
//! ```text
//! cargo bench -p limelight-tests --bench rooms -- [--clients 5000] [--rounds 30]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use limelight_tests::{TestApp, Ws, next_of};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const PEOPLE: usize = 50;

struct Args {
    clients: usize,
    rounds: u64,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Self {
            clients: 5000,
            rounds: 30,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--clients" => args.clients = it.next().context("--clients N")?.parse()?,
                "--rounds" => args.rounds = it.next().context("--rounds N")?.parse()?,
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

    // The clients, on their own runtime: each reports (seq, arrival) of every result.
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel::<(u64, Instant)>();
    let (joined_tx, mut joined) = mpsc::channel::<Result<()>>(args.clients);
    // At most 100 clients connect at a time, as people arriving would.
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(100));
    for c in 0..args.clients {
        let gate = gate.clone();
        let url = format!("ws://{base}/api/v1/ws?token={}", tokens[c % PEOPLE]);
        let (arrivals_tx, joined_tx) = (arrivals_tx.clone(), joined_tx.clone());
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
            while let Some(Ok(msg)) = ws.next().await {
                let at = Instant::now();
                if let Message::Text(text) = msg
                    && text.contains("\"POLL_RESULTS\"")
                    && let Ok(v) = serde_json::from_str::<Value>(&text)
                    && let Some(seq) = v["poll"]["seq"].as_u64()
                {
                    let _ = arrivals_tx.send((seq, at));
                }
            }
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

    let mut samples = Vec::new();
    let mut slowest = Vec::new();
    let mut missing = 0usize;
    for round in 1..=args.rounds {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = Instant::now();
        send(
            &mut voter,
            json!({"type": "submit_poll_response", "request_id": round.to_string(),
                   "session": session, "poll": poll_id, "choices": [round % 2]}),
        )
        .await?;
        let mut got = 0;
        let mut last = Duration::ZERO;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while got < args.clients {
            match tokio::time::timeout_at(deadline, arrivals.recv()).await {
                Ok(Some((seq, at))) if seq == round => {
                    let latency = at.saturating_duration_since(sent);
                    samples.push(latency);
                    last = last.max(latency);
                    got += 1;
                }
                Ok(Some(_)) => {}
                Ok(None) => bail!("every client is gone"),
                Err(_) => break,
            }
        }
        missing += args.clients - got;
        slowest.push(last);
    }
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
    println!(
        "| clients | samples | p50 | p90 | p99 | max | last client (median round) | missed | resyncs |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {missing} | {resyncs} |",
        args.clients,
        samples.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        ms(slowest[slowest.len() / 2]),
    );
    Ok(())
}
