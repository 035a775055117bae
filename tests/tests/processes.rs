//! Limelight as separate processes on one database: two servers booking the same
//! session never oversell, a server killed with SIGKILL in the middle of a
//! booking load loses nothing it acknowledged, and one killed while it publishes
//! its status over MQTT is announced offline by its last will; that status goes
//! over TLS with a client certificate when configured so. On PostgreSQL one of
//! two nodes drives the output and the other takes over when it is killed. Rate
//! limits hold across two nodes through Redis, and so do a session's room (one
//! order of chat, votes and presence on both nodes) and the events one node
//! makes for consoles on another (alerts, bookings).

use anyhow::{Context, Result, bail, ensure};
use futures_util::StreamExt;
use limelight_tests::process::ServerProcess;
use limelight_tests::{Broker, Client, Receiver, RedisServer, TestApp, TestPki};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

const SERVER: &str = env!("CARGO_BIN_EXE_limelight-server");

/// Every stored hold and booking of a session, page by page.
async fn stored(app: &Client, admin: &str, session: i64) -> Result<Vec<Value>> {
    let mut items = Vec::new();
    for page in 1.. {
        let path = format!("/api/v1/sessions/{session}/bookings?limit=500&page={page}");
        let (status, body) = app.call("GET", &path, Some(admin), None).await?;
        ensure!(status == 200, "{path}: {status} {body}");
        let got = body["items"].as_array().context("items")?;
        items.extend(got.iter().cloned());
        if got.is_empty() || items.len() as u64 >= body["total"].as_u64().context("total")? {
            break;
        }
    }
    Ok(items)
}

#[actix_rt::test]
async fn two_server_processes_booking_one_session_never_oversell() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    // 10 rows of 20: a quantity takes the best free seats, so both servers reach for
    // the same front seats at once.
    let rows: Vec<Value> = "ABCDEFGHIJ"
        .chars()
        .map(|r| json!({"row": r.to_string(), "seats": 20}))
        .collect();
    let session = app
        .bookable_session(&admin, json!({"seat_map": {"rows": rows}}))
        .await?;
    let tokens = app.attendees("fan", 20).await?;
    let other = ServerProcess::start(SERVER, &app.env).await?;
    let servers: [&Client; 2] = [&app, &other];

    // 1,500 bookings of 1-3 seats, alternating between the two servers, 200 in flight.
    let path = format!("/api/v1/sessions/{session}/bookings");
    let answers: Vec<Result<(u16, Value)>> = futures_util::stream::iter(0..1500usize)
        .map(|i| {
            let server = servers[i % 2];
            let token = &tokens[i % tokens.len()];
            let path = &path;
            async move {
                let quantity = i % 3 + 1;
                server
                    .call(
                        "POST",
                        path,
                        Some(token),
                        Some(json!({"quantity": quantity})),
                    )
                    .await
            }
        })
        .buffer_unordered(200)
        .collect()
        .await;

    let mut seats: HashMap<String, String> = HashMap::new();
    let mut granted = [0usize; 2];
    for (i, answer) in answers.into_iter().enumerate() {
        let (status, body) = answer?;
        match status {
            201 => {
                granted[i % 2] += 1;
                ensure!(body["state"] == "booked", "{body}");
                for s in body["seats"].as_array().context("seats")? {
                    let s = s.as_str().context("seat")?.to_owned();
                    ensure!(
                        seats.insert(s.clone(), body["id"].to_string()).is_none(),
                        "seat {s} sold twice"
                    );
                }
            }
            409 => ensure!(body["code"] == "sold_out", "{body}"),
            _ => bail!("unexpected answer {status} {body}"),
        }
    }
    // Both servers sold, and together at most the 200 seats.
    ensure!(granted[0] > 0 && granted[1] > 0, "{granted:?}");
    ensure!(seats.len() <= 200, "{} seats sold", seats.len());

    // The stored rows, and both servers' ledgers, agree with what was answered.
    let rows = stored(&app, &admin, session).await?;
    let stored_seats: usize = rows
        .iter()
        .filter(|b| b["state"] == "booked")
        .map(|b| b["seats"].as_array().map_or(0, Vec::len))
        .sum();
    ensure!(
        stored_seats == seats.len(),
        "{stored_seats} stored, {} answered",
        seats.len()
    );
    for server in servers {
        let a = server.availability(&admin, session).await?;
        ensure!(a["booked"] == seats.len() && a["held"] == 0, "{a}");
        ensure!(
            a["available"].as_u64() == Some(200 - seats.len() as u64),
            "{a}"
        );
    }
    other.kill().await
}

/// An answer of a booking load, with the index of the node that gave it.
type Answered = (usize, Result<(u16, Value)>);

/// One-place bookings of `session`, request `i` to `nodes[i % nodes.len()]`
/// with `tokens[i % tokens.len()]`, `in_flight` at a time; the notify fires
/// once 150 are acknowledged. Each answer comes with the index of its node.
fn booking_load(
    nodes: Vec<Client>,
    tokens: Vec<String>,
    session: i64,
    n: usize,
    in_flight: usize,
) -> (actix_rt::task::JoinHandle<Vec<Answered>>, Arc<Notify>) {
    let reached = Arc::new(Notify::new());
    let notify = Arc::clone(&reached);
    let load = actix_rt::spawn(async move {
        let acked = AtomicUsize::new(0);
        let path = format!("/api/v1/sessions/{session}/bookings");
        futures_util::stream::iter(0..n)
            .map(|i| {
                let (nodes, acked, reached, path) = (&nodes, &acked, &notify, &path);
                let (node, token) = (i % nodes.len(), &tokens[i % tokens.len()]);
                async move {
                    let answer = nodes[node]
                        .call("POST", path, Some(token), Some(json!({"quantity": 1})))
                        .await;
                    if matches!(answer, Ok((201, _)))
                        && acked.fetch_add(1, Ordering::SeqCst) + 1 == 150
                    {
                        reached.notify_one();
                    }
                    (node, answer)
                }
            })
            .buffer_unordered(in_flight)
            .collect::<Vec<_>>()
            .await
    });
    (load, reached)
}

#[actix_rt::test]
async fn a_server_killed_during_a_booking_load_loses_no_acknowledged_booking() -> Result<()> {
    const CAPACITY: u64 = 400;
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let session = app
        .bookable_session(&admin, json!({"capacity": CAPACITY}))
        .await?;
    let tokens = app.attendees("fan", 20).await?;
    let env = app.stop().await;

    // The load runs against a separate process, killed once it has acknowledged 150
    // bookings, with about a hundred more requests in flight.
    let victim = ServerProcess::start(SERVER, &env).await?;
    let (load, reached) = booking_load(
        vec![victim.client.clone()],
        tokens.clone(),
        session,
        2000,
        100,
    );
    tokio::time::timeout(Duration::from_secs(60), reached.notified())
        .await
        .context("the load never reached 150 bookings")?;
    victim.kill().await?;
    let answers = load.await?;

    let mut acknowledged = HashSet::new();
    let mut lost_in_flight = 0;
    for (_, answer) in answers {
        match answer {
            Ok((201, body)) => {
                ensure!(body["state"] == "booked", "{body}");
                acknowledged.insert(body["id"].as_str().context("id")?.to_owned());
            }
            Ok((409, body)) => ensure!(body["code"] == "sold_out", "{body}"),
            Ok((status, body)) => bail!("unexpected answer {status} {body}"),
            // Cut off by the kill: never acknowledged, so either outcome is allowed.
            Err(_) => lost_in_flight += 1,
        }
    }
    ensure!(
        acknowledged.len() >= 150 && lost_in_flight > 0,
        "{} acknowledged, {lost_in_flight} cut off",
        acknowledged.len()
    );

    // Restart on the same database: every acknowledged booking is there.
    let app = TestApp::spawn_in(env).await?;
    let admin = app.admin().await?;
    let rows = stored(&app, &admin, session).await?;
    let stored_ids: HashSet<String> = rows
        .iter()
        .filter(|b| b["state"] == "booked")
        .filter_map(|b| b["id"].as_str().map(str::to_owned))
        .collect();
    let missing: Vec<_> = acknowledged.difference(&stored_ids).collect();
    ensure!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let a = app.availability(&admin, session).await?;
    ensure!(
        a["booked"].as_u64() == Some(stored_ids.len() as u64)
            && a["available"].as_u64() == Some(CAPACITY - stored_ids.len() as u64),
        "{a} with {} stored",
        stored_ids.len()
    );

    // The rebuilt ledger sells exactly what is left, and no more.
    let path = format!("/api/v1/sessions/{session}/bookings");
    let mut sold = stored_ids.len() as u64;
    for i in 0.. {
        let (status, body) = app
            .call(
                "POST",
                &path,
                Some(&tokens[i % tokens.len()]),
                Some(json!({"quantity": 1})),
            )
            .await?;
        match status {
            201 => sold += 1,
            409 if body["code"] == "sold_out" => break,
            _ => bail!("unexpected answer {status} {body}"),
        }
    }
    ensure!(sold == CAPACITY, "{sold} sold of {CAPACITY}");
    Ok(())
}

#[actix_rt::test]
async fn a_server_killed_mid_upload_keeps_every_acknowledged_byte_and_no_stray_file() -> Result<()>
{
    use limelight_tests::{Tus, png_image, sha256_hex};
    let env = limelight_tests::TestEnv::new().await?;
    let server = ServerProcess::start(SERVER, &env).await?;
    let token = server.user("mk", "marketing").await?;
    let tus = Tus::of(&server, &token)?;
    let bytes = png_image(96, 64, |x, y| [(x * 2) as u8, (y * 3) as u8, (x + y) as u8])?;
    let path = tus.created(bytes.len() as u64, "").await?;
    let half = bytes.len() / 2;
    let acked = tus.patch(&path, 0, &bytes[..half]).await?;
    ensure!(
        acked.status == 204 && acked.offset()? == half as u64,
        "{}",
        acked.status
    );
    // More bytes are on their way, unacknowledged, when the server is killed.
    let quarter = half / 2;
    let open = tus
        .partial_patch(
            &path,
            half as u64,
            &bytes[half..half + quarter],
            2 * quarter,
        )
        .await?;
    server.kill().await?;
    drop(open);

    // A file no row names, as a crash between file and row would leave.
    let stray = env.dir.path().join("content/assets/ff/ff00");
    std::fs::create_dir_all(stray.parent().context("a parent")?)?;
    std::fs::write(&stray, b"left behind")?;

    let server = ServerProcess::start(SERVER, &env).await?;
    let token = server.login("mk", "mk-password").await?;
    let tus = Tus::of(&server, &token)?;
    ensure!(!stray.exists(), "the stray file was removed at start");
    let head = tus.head(&path).await?;
    let offset = head.offset()?;
    ensure!(
        (half as u64..=(half + quarter) as u64).contains(&offset),
        "offset {offset}: nothing acknowledged is lost"
    );
    let done = tus.patch(&path, offset, &bytes[offset as usize..]).await?;
    ensure!(done.status == 204, "{} {}", done.status, done.body);
    let (_, upload) = server.call("GET", &path, Some(&token), None).await?;
    let (status, asset) = server
        .call(
            "GET",
            &format!("/api/v1/assets/{}", upload["asset"]),
            Some(&token),
            None,
        )
        .await?;
    ensure!(status == 200, "{status} {asset}");
    ensure!(
        asset["versions"][0]["sha256"] == sha256_hex(&bytes),
        "{asset}"
    );
    Ok(())
}

#[actix_rt::test]
async fn limelight_publishes_its_status_and_canvas_states_and_its_last_will_says_offline()
-> Result<()> {
    let broker = Broker::start()?;
    let env = limelight_tests::TestEnv::new().await?;
    let url = broker.url();
    let server = ServerProcess::start_with(
        SERVER,
        &env,
        &[
            ("LIMELIGHT_MQTT_URL", &url),
            ("LIMELIGHT_MQTT_PREFIX", "venue/limelight"),
        ],
    )
    .await?;
    let admin = server.admin().await?;
    let canvas = server.idle_canvas(&admin, "canopy").await?;
    server.solid_scene(&admin, "amber", "#FFBF00").await?;

    // Retained: a subscriber arriving later hears that Limelight is online.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while broker.receive("venue/limelight/status", 1, 2)? != ["venue/limelight/status online"] {
        ensure!(std::time::Instant::now() < deadline, "never online");
    }
    let (status, body) = server.trigger(&admin, canvas, "amber").await?;
    ensure!(status == 200, "{status} {body}");
    let topic = format!("venue/limelight/canvases/{canvas}/state");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let line = broker.receive(&topic, 1, 5)?.concat();
        let json = line.strip_prefix(&format!("{topic} ")).unwrap_or_default();
        let state: Value = serde_json::from_str(json).unwrap_or_default();
        if state["scene"] == "amber" {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "state never said amber: {line}"
        );
    }

    server.kill().await?;
    // The broker notices the dropped connection and publishes the will (retained).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while broker.receive("venue/limelight/status", 1, 2)? != ["venue/limelight/status offline"] {
        ensure!(
            std::time::Instant::now() < deadline,
            "the last will never came"
        );
    }
    Ok(())
}

#[actix_rt::test]
async fn limelight_publishes_its_status_over_tls_with_its_client_certificate() -> Result<()> {
    let pki = TestPki::new("venue authority")?;
    let broker = Broker::start_tls(&pki)?;
    let url = broker.mutual_tls_url().context("a TLS broker")?;
    let ca = broker.write_file("limelight-ca.pem", &pki.ca)?;
    let cert = broker.write_file("limelight.pem", &pki.client_cert)?;
    let key = broker.write_file("limelight.key", &pki.client_key)?;
    let (ca, cert, key) = (ca.display(), cert.display(), key.display());
    let (ca, cert, key) = (ca.to_string(), cert.to_string(), key.to_string());
    let env = limelight_tests::TestEnv::new().await?;

    // A key file that is not there stops the start with a reason.
    let missing = ServerProcess::start_with(
        SERVER,
        &env,
        &[
            ("LIMELIGHT_MQTT_URL", &url),
            ("LIMELIGHT_MQTT_CA_FILE", &ca),
            ("LIMELIGHT_MQTT_CLIENT_CERT_FILE", &cert),
            (
                "LIMELIGHT_MQTT_CLIENT_KEY_FILE",
                "/nonexistent/limelight.key",
            ),
        ],
    )
    .await;
    ensure!(missing.is_err(), "started without its key file");

    let server = ServerProcess::start_with(
        SERVER,
        &env,
        &[
            ("LIMELIGHT_MQTT_URL", &url),
            ("LIMELIGHT_MQTT_CA_FILE", &ca),
            ("LIMELIGHT_MQTT_CLIENT_CERT_FILE", &cert),
            ("LIMELIGHT_MQTT_CLIENT_KEY_FILE", &key),
        ],
    )
    .await?;
    // Read on the broker's plain listener: what came in over TLS.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while broker.receive("limelight/status", 1, 2)? != ["limelight/status online"] {
        ensure!(std::time::Instant::now() < deadline, "never online");
    }
    server.kill().await?;
    Ok(())
}

/// The id of the node named `name` in a cluster answer.
fn node_id(cluster: &Value, name: &str) -> Option<String> {
    cluster["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["name"] == name)?["id"]
        .as_str()
        .map(str::to_owned)
}

#[actix_rt::test]
async fn one_node_drives_the_output_and_another_takes_over_within_3_s_of_a_cut_or_a_sigkill()
-> Result<()> {
    let env = limelight_tests::TestEnv::new().await?;
    let mut rx = Receiver::bind().await?;
    let north =
        ServerProcess::start_with(SERVER, &env, &[("LIMELIGHT_NODE_NAME", "north")]).await?;
    let admin = north.admin().await?;
    let canvas = north.canvas_to(&admin, "facade", 10, 40, &rx).await?;
    north.solid_scene(&admin, "amber", "#FFBF00").await?;
    let (status, body) = north.trigger(&admin, canvas, "amber").await?;
    ensure!(status == 200, "{status} {body}");
    let amber = |p: &limelight_tests::DataPacket| p.slots.first() == Some(&255);
    let first = rx.until(Duration::from_secs(5), amber).await?;

    if !env.database_url.starts_with("postgres") {
        // SQLite: one node on its own, and it says so.
        let cluster = north.get(&admin, "/api/v1/cluster").await?;
        ensure!(
            cluster["mode"] == "single"
                && cluster["database"] == "sqlite"
                && cluster["nodes"].as_array().map(Vec::len) == Some(1)
                && cluster["leader"] == cluster["node"]
                && cluster["database_health"]["ok"] == true,
            "{cluster}"
        );
        return north.kill().await;
    }

    // A second node on the same database stands by: it lists both and north leads.
    let south =
        ServerProcess::start_with(SERVER, &env, &[("LIMELIGHT_NODE_NAME", "south")]).await?;
    let south_admin = south.admin().await?;
    let cluster = south
        .get_when(
            &south_admin,
            "/api/v1/cluster",
            Duration::from_secs(10),
            |c| c["nodes"].as_array().map(Vec::len) == Some(2),
        )
        .await?;
    let (north_id, south_id) = (node_id(&cluster, "north"), node_id(&cluster, "south"));
    ensure!(
        cluster["mode"] == "cluster"
            && cluster["leader"].as_str() == north_id.as_deref()
            && cluster["node"].as_str() == south_id.as_deref()
            && cluster["database_health"]["ok"] == true,
        "{cluster}"
    );
    // One source on the wire: every packet for a second comes from north.
    let until = std::time::Instant::now() + Duration::from_secs(1);
    while std::time::Instant::now() < until {
        let p = rx.until(Duration::from_secs(1), |_| true).await?;
        ensure!(p.cid == first.cid, "a second source sent while north led");
    }
    let unauthorised = south.call("GET", "/api/v1/cluster", None, None).await?;
    ensure!(unauthorised.0 == 401, "{unauthorised:?}");

    // North's lock connection cut by the database: north stops sending, and
    // south takes the lock and sends the same look, as a source of its own,
    // within 3 s.
    let cut = std::time::Instant::now();
    env.postgres_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'limelight-output-north'",
    )
    .await?;
    let taken = rx
        .until(Duration::from_secs(6), |p| p.cid != first.cid)
        .await?;
    let after_cut = taken.at.saturating_duration_since(cut);
    ensure!(
        after_cut <= Duration::from_secs(3),
        "south sent {after_cut:?} after the cut"
    );
    ensure!(
        amber(&taken) && taken.slots.get(1) == Some(&0xBF),
        "{:?}",
        &taken.slots[..3]
    );
    let south_cid = taken.cid;
    south
        .get_when(
            &south_admin,
            "/api/v1/cluster",
            Duration::from_secs(10),
            |c| c["leader"].as_str() == south_id.as_deref(),
        )
        .await?;
    // Once north has noticed (within its next check), south's is the only source.
    let noticed = std::time::Instant::now() + Duration::from_millis(600);
    while std::time::Instant::now() < noticed {
        rx.until(Duration::from_secs(1), |_| true).await?;
    }
    let until = std::time::Instant::now() + Duration::from_secs(1);
    while std::time::Instant::now() < until {
        let p = rx.until(Duration::from_secs(1), |_| true).await?;
        ensure!(
            p.cid == south_cid,
            "north still sent after its connection was cut"
        );
    }

    // South killed: north, standing by again, takes over within 3 s.
    let killed = std::time::Instant::now();
    south.kill().await?;
    let back = rx
        .until(Duration::from_secs(6), |p| p.cid == first.cid)
        .await?;
    let after_kill = back.at.saturating_duration_since(killed);
    ensure!(
        after_kill <= Duration::from_secs(3),
        "north sent {after_kill:?} after the kill"
    );
    ensure!(amber(&back), "{:?}", &back.slots[..3]);
    let cluster = north
        .get_when(&admin, "/api/v1/cluster", Duration::from_secs(10), |c| {
            c["leader"].as_str() == north_id.as_deref()
        })
        .await?;
    ensure!(
        cluster["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["this"] == true && n["leader"] == true)),
        "{cluster}"
    );
    eprintln!("takeover {after_cut:?} after a cut connection, {after_kill:?} after a SIGKILL");
    north.kill().await
}

/// `POST path` with `body` on `node`, which must answer 200; how long until the
/// wire shows `rgb`.
async fn take(
    node: &ServerProcess,
    token: &str,
    path: &str,
    body: Value,
    rx: &mut Receiver,
    rgb: [u8; 3],
) -> Result<Duration> {
    let t = std::time::Instant::now();
    let (status, answer) = node.call("POST", path, Some(token), Some(body)).await?;
    ensure!(status == 200, "{path}: {status} {answer}");
    Ok(shows(rx, rgb, t).await?.1)
}

/// The first packet within 3 s whose first pixel is `rgb` (give or take 2 in
/// each channel, for rounding), and how long after `since` it came.
async fn shows(
    rx: &mut Receiver,
    rgb: [u8; 3],
    since: std::time::Instant,
) -> Result<(limelight_tests::DataPacket, Duration)> {
    let near = |p: &limelight_tests::DataPacket| {
        p.slots.len() >= 3 && p.slots.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 2)
    };
    let p = rx
        .until(Duration::from_secs(3), near)
        .await
        .with_context(|| format!("the wire never showed {rgb:?}"))?;
    let after = p.at.saturating_duration_since(since);
    Ok((p, after))
}

#[actix_rt::test]
async fn commands_taken_on_a_standby_reach_the_leaders_wire_and_the_standby_keeps_the_leaders_state()
-> Result<()> {
    let env = limelight_tests::TestEnv::new().await?;
    if !env.database_url.starts_with("postgres") {
        // One node on SQLite: there is no other node to follow (see the takeover
        // test for what a single node says of itself).
        return Ok(());
    }
    let mut rx = Receiver::bind().await?;
    let north =
        ServerProcess::start_with(SERVER, &env, &[("LIMELIGHT_NODE_NAME", "north")]).await?;
    let south =
        ServerProcess::start_with(SERVER, &env, &[("LIMELIGHT_NODE_NAME", "south")]).await?;
    let (na, sa) = (north.admin().await?, south.admin().await?);
    south
        .get_when(&sa, "/api/v1/cluster", Duration::from_secs(10), |c| {
            c["nodes"].as_array().map(Vec::len) == Some(2)
                && c["leader"].is_string()
                && c["leader"] != c["node"]
        })
        .await?;

    // Everything below is taken on the standby; the leader sends it.
    south.solid_scene(&sa, "red", "#FF0000").await?;
    south.solid_scene(&sa, "blue", "#0000FF").await?;
    let canvas = south.canvas_to(&sa, "facade", 10, 40, &rx).await?;
    let first = rx.until(Duration::from_secs(5), |_| true).await?;
    let leader_cid = first.cid;

    // Each command on the standby, and how long until the leader's wire shows it.
    let live = |what: &str| format!("/api/v1/canvases/{canvas}/{what}");
    let mut delays = Vec::new();
    let steps = [
        ("scene", json!({"scene": "red"}), [255, 0, 0]),
        ("master", json!({"level": 50}), [128, 0, 0]),
        ("blackout", json!({"on": true}), [0, 0, 0]),
        ("blackout", json!({"on": false}), [128, 0, 0]),
        ("emergency", json!({"on": true}), [255, 255, 255]),
        ("emergency", json!({"on": false}), [128, 0, 0]),
    ];
    for (what, body, rgb) in steps {
        delays.push(take(&south, &sa, &live(what), body, &mut rx, rgb).await?);
    }
    // A cue list written, run and advanced on the standby.
    let (status, list) = south
        .call(
            "POST",
            "/api/v1/cue-lists",
            Some(&sa),
            Some(json!({"name": "Show", "go_protection_ms": 0, "cues": [
                {"number": 1, "scene": "blue"}, {"number": 2, "scene": "red"}
            ]})),
        )
        .await?;
    ensure!(status == 201, "{status} {list}");
    let run = json!({"action": "run", "cue_list": list["id"], "scope": "until_released"});
    delays.push(take(&south, &sa, &live("cues"), run, &mut rx, [0, 0, 128]).await?);
    let go = json!({"action": "go"});
    delays.push(take(&south, &sa, &live("cues"), go, &mut rx, [128, 0, 0]).await?);
    let p = rx.until(Duration::from_secs(1), |_| true).await?;
    ensure!(p.cid == leader_cid, "the standby sent");

    // Both nodes report one state.
    let same = |s: &Value| {
        s["scene"] == "red"
            && s["master"] == 50.0
            && s["blackout"] == false
            && s["emergency"] == false
            && s["cues"]["current"] == "2"
    };
    north
        .get_when(&na, &live("state"), Duration::from_secs(2), same)
        .await?;
    south
        .get_when(&sa, &live("state"), Duration::from_secs(2), same)
        .await?;
    // And the way back: the leader's command reaches the standby's state.
    let (status, body) = north
        .call(
            "POST",
            &live("master"),
            Some(&na),
            Some(json!({"level": 100})),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    south
        .get_when(&sa, &live("state"), Duration::from_secs(2), |s| {
            s["master"] == 100.0 && s["cues"]["current"] == "2"
        })
        .await?;
    shows(&mut rx, [255, 0, 0], std::time::Instant::now()).await?;

    // The leader killed: the standby takes over with the same look.
    let killed = std::time::Instant::now();
    north.kill().await?;
    let taken = rx
        .until(Duration::from_secs(6), |p| p.cid != leader_cid)
        .await?;
    ensure!(
        taken.at.saturating_duration_since(killed) <= Duration::from_secs(3)
            && taken.slots.starts_with(&[255, 0, 0]),
        "{:?} after the kill: {:?}",
        taken.at.saturating_duration_since(killed),
        &taken.slots[..3]
    );
    // GO protection is off, so "back" is taken at once: cue 1, blue, on the wire.
    let (status, body) = south
        .call(
            "POST",
            &live("cues"),
            Some(&sa),
            Some(json!({"action": "back"})),
        )
        .await?;
    ensure!(status == 200, "{status} {body}");
    shows(&mut rx, [0, 0, 255], std::time::Instant::now()).await?;
    delays.sort();
    eprintln!("standby command -> leader's wire: {delays:?}");
    south.kill().await
}

#[actix_rt::test]
async fn one_users_requests_spread_over_two_nodes_are_refused_after_100() -> Result<()> {
    let mut redis = RedisServer::start()?;
    let env = limelight_tests::TestEnv::new().await?;
    let url = redis.url();
    let node = |name: &'static str| {
        [
            ("LIMELIGHT_REDIS_URL", url.as_str()),
            ("LIMELIGHT_RATE_LIMIT_PER_MINUTE", "100"),
            ("LIMELIGHT_NODE_NAME", name),
        ]
    };
    let a = ServerProcess::start_with(SERVER, &env, &node("a")).await?;
    let b = ServerProcess::start_with(SERVER, &env, &node("b")).await?;
    let admin = a.admin().await?;
    let ann = a.user("ann", "attendee").await?;

    // 110 requests, every other one to the other node: the first 100 pass; past
    // them only what refilled since the start (one each 0.6 s) does. Each node
    // alone would let all 110 through (55 each).
    let started = std::time::Instant::now();
    let (mut passed, mut refused) = (0, 0);
    for i in 0..110 {
        let node = if i % 2 == 0 { &a } else { &b };
        let (status, body) = node.call("GET", "/api/v1/events", Some(&ann), None).await?;
        match status {
            200 => passed += 1,
            429 => {
                ensure!(body["code"] == "rate_limited", "{body}");
                ensure!(i >= 100, "request {i} refused inside the burst");
                refused += 1;
            }
            other => bail!("request {i}: {other} {body}"),
        }
    }
    let refilled = (started.elapsed().as_secs_f64() / 0.6).ceil() as usize;
    ensure!(
        passed >= 100 && passed <= 100 + refilled && refused > 0,
        "{passed} passed, {refused} refused, {refilled} refilled"
    );
    let cluster = b.get(&admin, "/api/v1/cluster").await?;
    ensure!(cluster["redis"]["ok"] == true, "{cluster}");
    let (status, body) = b.call("GET", "/readyz", None, None).await?;
    ensure!(status == 200, "{status} {body}");

    // Redis gone: each node limits on its own and every request is still
    // answered, but neither is ready: a message published does not come back.
    redis.stop()?;
    let (status, body) = b.call("GET", "/api/v1/events", Some(&admin), None).await?;
    ensure!(status == 200, "{status} {body}");
    let cluster = b.get(&admin, "/api/v1/cluster").await?;
    ensure!(
        cluster["redis"]["ok"] == false && cluster["redis"]["error"].is_string(),
        "{cluster}"
    );
    for node in [&a, &b] {
        let (status, body) = node.call("GET", "/readyz", None, None).await?;
        ensure!(
            status == 503
                && body["code"] == "unavailable"
                && body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("Redis")),
            "{status} {body}"
        );
    }
    // Back: both nodes subscribe again and are ready within seconds.
    redis.restart()?;
    for node in [&a, &b] {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = node.call("GET", "/readyz", None, None).await?;
            if status == 200 {
                break;
            }
            ensure!(
                std::time::Instant::now() < deadline,
                "not ready again: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    a.kill().await?;
    b.kill().await
}

/// A redis-server, and nodes `a` and `b` on `env`'s database sharing it.
async fn two_nodes_on_redis(
    env: &limelight_tests::TestEnv,
) -> Result<(RedisServer, ServerProcess, ServerProcess)> {
    let redis = RedisServer::start()?;
    let url = redis.url();
    let node = |name: &'static str| {
        [
            ("LIMELIGHT_REDIS_URL", url.as_str()),
            ("LIMELIGHT_NODE_NAME", name),
        ]
    };
    let a = ServerProcess::start_with(SERVER, env, &node("a")).await?;
    let b = ServerProcess::start_with(SERVER, env, &node("b")).await?;
    Ok((redis, a, b))
}

/// Wait up to `within` for a message on `ws` that passes `wanted`.
async fn heard_within(
    ws: &mut limelight_tests::Ws,
    within: Duration,
    what: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let m = limelight_tests::next_of_any(ws).await?;
        if wanted(&m) {
            return Ok(m);
        }
        ensure!(std::time::Instant::now() < deadline, "no {what} in time");
    }
}

/// The ids of the next `n` chat messages `ws` hears, in the order heard.
async fn message_order(ws: &mut limelight_tests::Ws, n: usize) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    while ids.len() < n {
        let m = limelight_tests::next_of_any(ws).await?;
        if m["type"] == "MESSAGE_RECEIVED" {
            ids.push(m["message"]["id"].as_str().context("id")?.to_owned());
        }
    }
    Ok(ids)
}

#[actix_rt::test]
async fn a_room_and_console_events_span_two_nodes_in_one_order_and_a_redis_restart_leaves_no_silent_hole()
-> Result<()> {
    use limelight_tests::{enter, say};
    let env = limelight_tests::TestEnv::new().await?;
    if !env.database_url.starts_with("postgres") {
        // One node on SQLite.
        return Ok(());
    }
    let (mut redis, a, b) = two_nodes_on_redis(&env).await?;
    let admin = a.admin().await?;
    let session = a.bookable_session(&admin, json!({"capacity": 10})).await?;
    let (ann, bob) = (a.attendee("ann").await?, a.attendee("bob").await?);

    // Ann enters on a, which takes the room; Bob on b, which follows it. Both
    // count two people.
    let (mut on_a, _) = enter(&a, &ann, session).await?;
    let (mut on_b, _) = enter(&b, &bob, session).await?;
    let two = |m: &Value| m["type"] == "PRESENCE_UPDATE" && m["present"] == 2;
    for ws in [&mut on_a, &mut on_b] {
        heard_within(ws, Duration::from_secs(5), "presence of two", two).await?;
    }

    // Both write at once: each hears all eight messages, in one order.
    for i in 0..4 {
        let text = |who: &str| json!({"type": "send_message", "request_id": format!("{who}{i}"), "session": session, "text": format!("{who} {i}")});
        say(&mut on_a, text("ann")).await?;
        say(&mut on_b, text("bob")).await?;
    }
    let (heard_a, heard_b) = (
        message_order(&mut on_a, 8).await?,
        message_order(&mut on_b, 8).await?,
    );
    ensure!(heard_a == heard_b, "{heard_a:?} != {heard_b:?}");
    // b decided none of them: it forwarded its member's to a.
    let forwarded = limelight_tests::metric(&b.metrics().await?, "limelight_room_forwarded_total");
    ensure!(forwarded >= 4, "b forwarded {forwarded} commands");
    let stored = b
        .get(&admin, &format!("/api/v1/sessions/{session}/room"))
        .await?;
    ensure!(
        stored["messages"].as_array().map(Vec::len) == Some(8) && stored["present"] == 2,
        "{stored}"
    );

    // A poll made over REST on b, a vote on b, the results on a.
    let (status, poll) = b
        .call(
            "POST",
            &format!("/api/v1/sessions/{session}/room/polls"),
            Some(&admin),
            Some(json!({"question": "Encore?", "options": ["yes", "no"]})),
        )
        .await?;
    ensure!(status == 201, "{status} {poll}");
    say(&mut on_b, json!({"type": "submit_poll_response", "request_id": "v", "session": session, "poll": poll["id"], "choices": [0]})).await?;
    heard_within(&mut on_a, Duration::from_secs(5), "poll results", |m| {
        m["type"] == "POLL_RESULTS" && m["poll"]["voters"] == 1 && m["poll"]["counts"][0] == 1
    })
    .await?;

    // A system alert raised on b reaches a staff console on a.
    let mut console = limelight_tests::connect(&a, &admin).await?;
    limelight_tests::next_of(&mut console, "snapshot").await?;
    let incident = b
        .created(
            "/api/v1/incidents",
            &admin,
            json!({"title": "Smoke in hall B", "priority": "critical"}),
        )
        .await?;
    let alert = limelight_tests::next_of(&mut console, "system_alert").await?;
    ensure!(
        alert["alert"]["kind"] == "critical_incident" && alert["alert"]["id"] == incident,
        "{alert}"
    );

    // Ann books on b; the console she has open on a hears it.
    let mut anns_console = limelight_tests::connect(&a, &ann).await?;
    limelight_tests::next_of(&mut anns_console, "welcome").await?;
    let (status, booked) = b
        .call(
            "POST",
            &format!("/api/v1/sessions/{session}/bookings"),
            Some(&ann),
            Some(json!({"quantity": 1})),
        )
        .await?;
    ensure!(status == 201, "{status} {booked}");
    let confirmed = limelight_tests::next_of(&mut anns_console, "BOOKING_CONFIRMED").await?;
    ensure!(confirmed["booking"]["id"] == booked["id"], "{confirmed}");

    // Redis gone: a command on b cannot reach the room's node and is refused,
    // storing nothing; a, which holds the room, still takes its own member's.
    redis.stop()?;
    say(&mut on_b, json!({"type": "send_message", "request_id": "down", "session": session, "text": "refused"})).await?;
    let refused = heard_within(&mut on_b, Duration::from_secs(10), "the refusal", |m| {
        m["request_id"] == "down"
    })
    .await?;
    ensure!(
        refused["type"] == "error" && refused["code"] == "unavailable",
        "{refused}"
    );
    limelight_tests::command(&mut on_a, json!({"type": "send_message", "request_id": "kept", "session": session, "text": "while Redis was down"})).await?;
    // Back, empty: Bob hears that message, as the event or in a fresh snapshot.
    redis.restart()?;
    let kept = |m: &Value| {
        let said = |x: &Value| x["text"] == "while Redis was down";
        (m["type"] == "MESSAGE_RECEIVED" && said(&m["message"]))
            || (m["type"] == "ROOM_SNAPSHOT"
                && m["snapshot"]["messages"]
                    .as_array()
                    .is_some_and(|all| all.iter().any(said)))
    };
    heard_within(&mut on_b, Duration::from_secs(20), "the message", kept).await?;
    let stored = a
        .get(&admin, &format!("/api/v1/sessions/{session}/room"))
        .await?;
    let texts: Vec<&str> = stored["messages"]
        .as_array()
        .context("messages")?
        .iter()
        .filter_map(|m| m["text"].as_str())
        .collect();
    ensure!(texts.len() == 9 && !texts.contains(&"refused"), "{texts:?}");

    // The room still spans both nodes: Bob leaves b, and a counts one.
    drop(on_b);
    let room = format!("/api/v1/sessions/{session}/room");
    a.get_when(&admin, &room, Duration::from_secs(10), |r| {
        r["present"] == 1
    })
    .await?;
    a.kill().await?;
    b.kill().await
}

#[actix_rt::test]
async fn two_nodes_book_one_session_through_one_ledger_and_the_killed_owners_acknowledgements_hold()
-> Result<()> {
    const CAPACITY: u64 = 500;
    let env = limelight_tests::TestEnv::new().await?;
    if !env.database_url.starts_with("postgres") {
        // One node on SQLite.
        return Ok(());
    }
    let (redis, a, b) = two_nodes_on_redis(&env).await?;
    let url = redis.url();
    let admin = a.admin().await?;
    let session = a
        .bookable_session(&admin, json!({"capacity": CAPACITY}))
        .await?;
    let tokens = a.attendees("fan", 20).await?;
    let path = format!("/api/v1/sessions/{session}/bookings");
    let book = |node: &ServerProcess, i: usize| {
        let (client, token, path) = (node.client.clone(), tokens[i % 20].clone(), path.clone());
        async move {
            client
                .call("POST", &path, Some(&token), Some(json!({"quantity": 1})))
                .await
        }
    };

    // A first booking on each node; one of them runs the session's ledger.
    for (i, node) in [&a, &b].into_iter().enumerate() {
        let (status, body) = book(node, i).await?;
        ensure!(status == 201, "{status} {body}");
    }
    let client = redis::Client::open(url.as_str())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let owner: String = redis::cmd("GET")
        .arg(format!("limelight:ledger-owner:{session}"))
        .query_async(&mut conn)
        .await?;
    let a_id = a.get(&admin, "/api/v1/cluster").await?["node"].clone();
    let (owner, survivor) = if a_id == owner.as_str() {
        (a, b)
    } else {
        (b, a)
    };
    let forwarded = limelight_tests::metric(
        &survivor.metrics().await?,
        "limelight_ledger_forwarded_total",
    );
    ensure!(forwarded >= 1, "the other node forwarded {forwarded}");

    // Load on both nodes; the owner is killed once 150 more are acknowledged.
    let nodes = vec![owner.client.clone(), survivor.client.clone()];
    let (load, reached) = booking_load(nodes, tokens.clone(), session, 1000, 60);
    tokio::time::timeout(Duration::from_secs(60), reached.notified())
        .await
        .context("the load never reached 150 bookings")?;
    owner.kill().await?;
    let answers = load.await?;

    let mut acknowledged = HashSet::new();
    let (mut refused, mut cut_off) = (0, 0);
    for (node, answer) in answers {
        match answer {
            Ok((201, body)) => {
                acknowledged.insert(body["id"].as_str().context("id")?.to_owned());
            }
            Ok((409, body)) => ensure!(body["code"] == "sold_out", "{body}"),
            // Forwarded to the dead owner before its lease lapsed: refused,
            // never acknowledged.
            Ok((503, body)) if node == 1 => {
                ensure!(body["code"] == "unavailable", "{body}");
                refused += 1;
            }
            Ok((status, body)) => bail!("unexpected answer {status} {body}"),
            Err(_) if node == 0 => cut_off += 1,
            Err(e) => return Err(e),
        }
    }
    // The survivor took over the ledger and went on booking after the kill.
    let (status, body) = book(&survivor, 0).await?;
    ensure!(status == 201 || status == 409, "{status} {body}");
    let rows = stored(&survivor, &admin, session).await?;
    let booked: HashSet<String> = rows
        .iter()
        .filter(|r| r["state"] == "booked")
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    ensure!(
        acknowledged.is_subset(&booked) && booked.len() as u64 <= CAPACITY,
        "{} acknowledged, {} stored",
        acknowledged.len(),
        booked.len()
    );
    eprintln!(
        "{} acknowledged, {refused} refused while the lease lapsed, {cut_off} cut off",
        acknowledged.len()
    );
    survivor.kill().await
}
