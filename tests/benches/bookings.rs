//! Booking benchmark: confirmed bookings per second on one session, through the
//! session's booking ledger, beside a baseline of one database transaction per
//! request (`SELECT ... FOR UPDATE` on the session row, sum the live bookings,
//! insert, commit), measured in the same run on the same database.
//!
//! A real server runs in this process (SQLite in a temporary directory, or
//! PostgreSQL when `LIMELIGHT_TEST_POSTGRES` is set). Three runs book `--bookings`
//! single places on a fresh session each, with `--in-flight` requests at a time from
//! a hundred attendees:
//!
//! - ledger: `EngineHandle::hold(.., book = true, ..)`, what `POST
//!   /sessions/{id}/bookings` calls after authentication;
//! - HTTP: `POST /api/v1/sessions/{id}/bookings` with a bearer token, end to end;
//! - baseline: the transaction above, on a pool of the same size as the server's.
//!
//! Every run must end with exactly `--bookings` bookings stored.
//!
//! ```text
//! cargo bench -p limelight-tests --bench bookings -- [--bookings 10000] [--in-flight 256]
//! ```
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use anyhow::{Context, Result, bail, ensure};
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, RunQueryDsl};
use futures_util::StreamExt;
use limelight_engine::Principal;
use limelight_engine::Store;
use limelight_shared::booking::PlaceRequest;
use limelight_shared::ids::SessionId;
use limelight_shared::users::Role;
use limelight_tests::TestApp;
use serde_json::json;
use std::time::{Duration, Instant};

const ATTENDEES: usize = 100;

struct Args {
    bookings: usize,
    in_flight: usize,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Self {
            bookings: 10_000,
            in_flight: 256,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--bookings" => args.bookings = it.next().context("--bookings N")?.parse()?,
                "--in-flight" => args.in_flight = it.next().context("--in-flight N")?.parse()?,
                // cargo bench passes --bench.
                "--bench" => {}
                other => bail!("unknown argument {other}"),
            }
        }
        Ok(args)
    }
}

fn main() -> Result<()> {
    let args = Args::parse()?;
    actix_rt::System::new().block_on(run(args))
}

/// One run's figures.
struct Run {
    name: String,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, baseline: f64) {
        let mut l = self.latencies.clone();
        l.sort();
        let at = |q: f64| l[((l.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
        println!(
            "| {} | {} | {:.2} s | {:.0} | {:.1}x | {:.1} ms | {:.1} ms |",
            self.name,
            l.len(),
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.per_second() / baseline,
            at(0.5),
            at(0.99)
        );
    }
}

/// Run `n` requests, `in_flight` at a time; each must succeed.
async fn timed<F, Fut>(name: &str, n: usize, in_flight: usize, request: F) -> Result<Run>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let started = Instant::now();
    let request = &request;
    let latencies: Vec<Result<Duration>> = futures_util::stream::iter(0..n)
        .map(|i| async move {
            let t = Instant::now();
            request(i).await?;
            Ok(t.elapsed())
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let elapsed = started.elapsed();
    Ok(Run {
        name: name.to_owned(),
        elapsed,
        latencies: latencies.into_iter().collect::<Result<_>>()?,
    })
}

async fn run(args: Args) -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let engine = app.server.engine().clone();
    let backend = engine.backend();
    let capacity = json!({"capacity": args.bookings});
    let (people, tokens) = attendees(&app).await?;
    let one = PlaceRequest {
        quantity: Some(1),
        seats: None,
    };

    // The ledger, through the engine handle.
    let session = app.bookable_session(&admin, capacity.clone()).await?;
    let ledger = timed(
        "ledger (EngineHandle)",
        args.bookings,
        args.in_flight,
        |i| {
            let (engine, who, one) = (&engine, &people[i % ATTENDEES], &one);
            async move {
                let b = engine
                    .hold(who, SessionId(session), one, true, None)
                    .await?;
                ensure!(b.state == limelight_shared::booking::BookingState::Booked);
                Ok(())
            }
        },
    )
    .await?;
    stored_exactly(&app, &admin, session, args.bookings).await?;

    // The same through HTTP, authentication included.
    let session = app.bookable_session(&admin, capacity.clone()).await?;
    let path = format!("/api/v1/sessions/{session}/bookings");
    let http = timed("ledger (HTTP)", args.bookings, args.in_flight, |i| {
        let (app, token, path) = (&app, &tokens[i % ATTENDEES], &path);
        async move {
            let (status, body) = app
                .call("POST", path, Some(token), Some(json!({"quantity": 1})))
                .await?;
            ensure!(status == 201, "{status} {body}");
            Ok(())
        }
    })
    .await?;
    stored_exactly(&app, &admin, session, args.bookings).await?;

    // The baseline: its own pool, the same size as the server's.
    let session = app.bookable_session(&admin, capacity).await?;
    let store = Store::open(&app.env.database_url).await?;
    let baseline = timed(
        "baseline (transaction per request)",
        args.bookings,
        args.in_flight,
        |i| {
            let (store, who) = (&store, people[i % ATTENDEES].id.0);
            async move {
                ensure!(
                    book_in_one_transaction(store, session, who, i).await?,
                    "sold out"
                );
                Ok(())
            }
        },
    )
    .await?;
    stored_exactly(&app, &admin, session, args.bookings).await?;

    let base = baseline.per_second();
    println!(
        "\nbooking benchmark on {backend}: {} bookings of one place each, {} in flight\n",
        args.bookings, args.in_flight
    );
    println!("| {backend} | bookings | time | bookings/s | vs baseline | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for run in [&ledger, &http, &baseline] {
        run.print(base);
    }
    if backend == "postgres" {
        across_nodes(&args).await?;
    }
    Ok(())
}

/// Two nodes on one PostgreSQL database, and another pair on another.
async fn pair(redis: Option<&str>) -> Result<[TestApp; 2]> {
    let first = limelight_tests::TestEnv::new().await?;
    let second = limelight_tests::TestEnv {
        dir: tempfile::tempdir()?,
        database_url: first.database_url.clone(),
    };
    let start = |env: limelight_tests::TestEnv| {
        let mut config = env.config();
        config.redis_url = redis.map(str::to_owned);
        TestApp::spawn_with(env, config)
    };
    Ok([start(first).await?, start(second).await?])
}

/// The ledger through one node and through two nodes on one PostgreSQL
/// (requests alternating between their engines), on one session and spread
/// over 100 sessions: with Redis, where each session's ledger runs on one node
/// and the other forwards to it, and without, where both nodes run a ledger of
/// the session. Each run on fresh sessions, every booking stored once.
async fn across_nodes(args: &Args) -> Result<()> {
    let redis = limelight_tests::RedisServer::start()?;
    let url = redis.url();
    let mut rows = Vec::new();
    for (label, apps) in [
        ("Redis", pair(Some(&url)).await?),
        ("no Redis", pair(None).await?),
    ] {
        let admin = apps[0].admin().await?;
        let (people, _) = attendees(&apps[0]).await?;
        let engines = [
            apps[0].server.engine().clone(),
            apps[1].server.engine().clone(),
        ];
        let one = PlaceRequest {
            quantity: Some(1),
            seats: None,
        };
        for sessions in [1usize, 100] {
            let each = args.bookings.div_ceil(sessions);
            let mut alone = 0.0;
            for nodes in [1usize, 2] {
                if nodes == 1 && label != "Redis" {
                    continue;
                }
                let mut ids = Vec::with_capacity(sessions);
                for _ in 0..sessions {
                    ids.push(
                        apps[0]
                            .bookable_session(&admin, json!({"capacity": each}))
                            .await?,
                    );
                }
                let name = format!("{nodes} node(s), {sessions} session(s), {label}");
                let run = timed(&name, each * sessions, args.in_flight, |i| {
                    let (engine, who, one) = (&engines[i % nodes], &people[i % ATTENDEES], &one);
                    let session = SessionId(ids[(i / nodes) % sessions]);
                    async move {
                        let b = engine.hold(who, session, one, true, None).await?;
                        ensure!(b.state == limelight_shared::booking::BookingState::Booked);
                        Ok(())
                    }
                })
                .await?;
                for id in &ids {
                    stored_exactly(&apps[0], &admin, *id, each).await?;
                }
                if nodes == 1 {
                    alone = run.per_second();
                }
                rows.push((run, sessions, alone));
            }
        }
        for app in apps {
            app.server.stop().await;
        }
    }
    println!(
        "\nacross nodes on PostgreSQL: {} bookings, {} in flight\n",
        args.bookings, args.in_flight
    );
    println!("| run | bookings | time | bookings/s | vs one node | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let alone = |sessions: usize| {
        rows.iter()
            .find(|(_, s, a)| *s == sessions && *a > 0.0)
            .map_or(1.0, |(_, _, a)| *a)
    };
    for (run, sessions, _) in &rows {
        run.print(alone(*sessions));
    }
    Ok(())
}

/// A hundred attendees: who each is, and their tokens.
async fn attendees(app: &TestApp) -> Result<(Vec<Principal>, Vec<String>)> {
    let mut people = Vec::with_capacity(ATTENDEES);
    let mut tokens = Vec::with_capacity(ATTENDEES);
    for i in 0..ATTENDEES {
        let name = format!("fan{i}");
        tokens.push(app.attendee(&name).await?);
        let (_, me) = app
            .call(
                "GET",
                "/api/v1/auth/me",
                tokens.last().map(String::as_str),
                None,
            )
            .await?;
        let id = me["id"].as_i64().context("user id")?;
        people.push(Principal {
            id: limelight_shared::ids::UserId(id),
            username: name,
            role: Role::Attendee,
            approver: false,
        });
    }
    Ok((people, tokens))
}

async fn stored_exactly(app: &TestApp, admin: &str, session: i64, n: usize) -> Result<()> {
    let stored = app.stored_bookings(admin, session).await?;
    ensure!(stored == n as u64, "{stored} stored, {n} expected");
    Ok(())
}

#[derive(QueryableByName)]
struct Capacity {
    #[diesel(sql_type = Integer)]
    capacity: i32,
}

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = BigInt)]
    taken: i64,
}

/// The baseline: lock the session row, derive what is taken, insert, commit.
/// Whether the place was booked.
async fn book_in_one_transaction(store: &Store, session: i64, user: i64, i: usize) -> Result<bool> {
    let id = format!("baseline-{i}");
    let now = chrono::Utc::now().naive_utc();
    // The same statements on both backends; SQLite has no row locks (its single
    // writer serialises the transactions instead).
    macro_rules! book {
        ($conn:expr, $lock:literal, $p:literal) => {
            $conn
                .transaction::<bool, diesel::result::Error, _>(async move |conn| {
                    let cap: Capacity = sql_query(concat!("SELECT capacity FROM sessions WHERE id = ", $p, "1", $lock))
                        .bind::<BigInt, _>(session)
                        .get_result(conn)
                        .await?;
                    let taken: Taken = sql_query(concat!(
                        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) AS taken FROM bookings \
                         WHERE session_id = ", $p, "1 AND state IN ('held', 'offered', 'booked')"
                    ))
                    .bind::<BigInt, _>(session)
                    .get_result(conn)
                    .await?;
                    if taken.taken >= i64::from(cap.capacity) {
                        return Ok(false);
                    }
                    sql_query(concat!(
                        "INSERT INTO bookings (id, session_id, user_id, state, quantity, created_at, updated_at) \
                         VALUES (", $p, "1, ", $p, "2, ", $p, "3, 'booked', 1, ", $p, "4, ", $p, "4)"
                    ))
                    .bind::<Text, _>(id)
                    .bind::<BigInt, _>(session)
                    .bind::<BigInt, _>(user)
                    .bind::<Timestamp, _>(now)
                    .execute(conn)
                    .await?;
                    Ok(true)
                })
                .await
        };
    }
    Ok(match store {
        Store::Postgres(pool) => {
            let mut conn = pool.get().await?;
            book!(conn, " FOR UPDATE", "$")?
        }
        Store::Sqlite { writer, .. } => {
            let mut conn = writer.get().await?;
            book!(conn, "", "?")?
        }
    })
}
