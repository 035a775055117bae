//! Session rooms through the real server: presence, chat, Q&A, a thousand
//! WebSocket clients voting at once, and a stalled client that slows nobody.

use anyhow::{Context, Result, ensure};
use limelight_tests::{
    TestApp, command, connect, connect_stalled, enter, find, metric, next_of, next_of_any, resume,
    say,
};
use serde_json::{Value, json};
use std::collections::HashMap;

/// A server, the admin's token, and a session whose room the test uses.
async fn stage() -> Result<(TestApp, String, i64)> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let session = app
        .bookable_session(&admin, json!({"capacity": 10}))
        .await?;
    Ok((app, admin, session))
}

/// The room as REST shows it to staff.
async fn room_view(app: &TestApp, admin: &str, session: i64) -> Result<Value> {
    let path = format!("/api/v1/sessions/{session}/room");
    let (status, room) = app.call("GET", &path, Some(admin), None).await?;
    ensure!(status == 200, "{path}: {status} {room}");
    Ok(room)
}

#[actix_rt::test]
async fn people_chat_ask_and_upvote_and_see_who_is_there() -> Result<()> {
    let (app, admin, session) = stage().await?;
    let ann = app.attendee("ann").await?;
    let bob = app.attendee("bob").await?;
    let (mut a, snap) = enter(&app, &ann, session).await?;
    ensure!(snap["snapshot"]["session"] == session, "{snap}");
    let (mut b, _) = enter(&app, &bob, session).await?;
    loop {
        let p = next_of(&mut a, "PRESENCE_UPDATE").await?;
        if p["present"] == 2 {
            break;
        }
    }
    // Chat: the sender's own message reaches it before the ack.
    let mine = command(
        &mut a,
        json!({"type": "send_message", "request_id": "m", "session": session, "text": "hello"}),
    )
    .await?;
    let m = next_of(&mut b, "MESSAGE_RECEIVED").await?;
    ensure!(
        m["message"]["text"] == "hello" && m["message"]["username"] == "ann",
        "{m}"
    );
    ensure!(find(&mine, "MESSAGE_RECEIVED")? == m, "{mine:?}");
    // Rate limit and length limit.
    for n in 0..4 {
        command(&mut a, json!({"type": "send_message", "request_id": format!("r{n}"), "session": session, "text": "x"})).await?;
    }
    say(
        &mut a,
        json!({"type": "send_message", "request_id": "over", "session": session, "text": "x"}),
    )
    .await?;
    let e = next_of(&mut a, "error").await?;
    ensure!(
        e["code"] == "rate_limited" && e["request_id"] == "over",
        "{e}"
    );
    say(&mut b, json!({"type": "send_message", "request_id": "long", "session": session, "text": "y".repeat(501)})).await?;
    let e = next_of(&mut b, "error").await?;
    ensure!(e["code"] == "validation_failed", "{e}");
    // Not in the room: refused.
    let mut outsider = connect(&app, &bob).await?;
    say(
        &mut outsider,
        json!({"type": "ask_question", "request_id": "q", "session": session, "text": "?"}),
    )
    .await?;
    let e = next_of(&mut outsider, "error").await?;
    ensure!(e["code"] == "not_in_room", "{e}");
    // Q&A: one upvote per person.
    command(&mut b, json!({"type": "ask_question", "request_id": "q", "session": session, "text": "When is the break?"})).await?;
    let q = next_of(&mut a, "QUESTION_UPDATED").await?;
    let qid = q["question"]["id"].clone();
    for n in 0..2 {
        command(&mut a, json!({"type": "upvote", "request_id": format!("u{n}"), "session": session, "question": qid})).await?;
    }
    let (status, room) = app
        .call(
            "GET",
            &format!("/api/v1/sessions/{session}/room"),
            Some(&ann),
            None,
        )
        .await?;
    ensure!(
        status == 200 && room["questions"][0]["upvotes"] == 1,
        "{room}"
    );
    // Moderation over REST: attendees may not; staff pin and mark answered.
    let moderate = format!(
        "/api/v1/sessions/{session}/room/questions/{}/moderate",
        qid.as_str().context("id")?
    );
    app.refused(
        "POST",
        &moderate,
        &ann,
        Some(json!({"action": "answered"})),
        403,
        "forbidden",
    )
    .await?;
    let (status, answered) = app
        .call(
            "POST",
            &moderate,
            Some(&admin),
            Some(json!({"action": "answered"})),
        )
        .await?;
    ensure!(status == 200 && answered["answered"] == true, "{answered}");
    let m_id = m["message"]["id"].as_str().context("id")?;
    let (status, deleted) = app
        .call(
            "POST",
            &format!("/api/v1/sessions/{session}/room/messages/{m_id}/moderate"),
            Some(&admin),
            Some(json!({"action": "delete"})),
        )
        .await?;
    ensure!(status == 200 && deleted["deleted"] == true, "{deleted}");
    let gone = next_of(&mut b, "MESSAGE_UPDATED").await?;
    ensure!(gone["message"]["deleted"] == true, "{gone}");
    // Leaving updates presence.
    command(
        &mut b,
        json!({"type": "leave_room", "request_id": "l", "session": session}),
    )
    .await?;
    loop {
        let p = next_of(&mut a, "PRESENCE_UPDATE").await?;
        if p["present"] == 1 {
            break;
        }
    }
    Ok(())
}

#[actix_rt::test]
async fn a_thousand_clients_voting_at_once_give_a_tally_of_the_distinct_voters() -> Result<()> {
    const PEOPLE: usize = 200;
    const CONNECTIONS_EACH: usize = 5;
    let (app, admin, session) = stage().await?;
    let tokens = app.attendees("voter", PEOPLE).await?;
    // A thousand clients, each person on five connections, each in its own task
    // that keeps reading (and so answers the server's pings).
    let (ready_tx, mut ready) = tokio::sync::mpsc::channel::<()>(PEOPLE * CONNECTIONS_EACH);
    let (poll_tx, poll_rx) = tokio::sync::watch::channel(Value::Null);
    let mut tasks = Vec::with_capacity(PEOPLE * CONNECTIONS_EACH);
    for copy in 0..CONNECTIONS_EACH {
        for (person, token) in tokens.iter().enumerate() {
            let url = format!("ws://{}/api/v1/ws?token={token}", app.server.addr());
            let (ready_tx, mut poll_rx) = (ready_tx.clone(), poll_rx.clone());
            tasks.push(tokio::spawn(async move {
                let mut ws = tokio_tungstenite::connect_async(url).await?.0;
                let joined = command(
                    &mut ws,
                    json!({"type": "join_room", "request_id": "j", "session": session}),
                )
                .await?;
                find(&joined, "ROOM_SNAPSHOT")?;
                ready_tx.send(()).await?;
                next_of(&mut ws, "POLL_CREATED").await?;
                let poll_id = poll_rx.wait_for(|p| !p.is_null()).await?.clone();
                // Each person's connections vote differently: the last vote the
                // room decides on is the one that counts.
                let choice = (person + copy) % 3;
                let heard = command(
                    &mut ws,
                    json!({"type": "submit_poll_response", "request_id": "v", "session": session,
                           "poll": poll_id, "choices": [choice]}),
                )
                .await?;
                Ok::<_, anyhow::Error>((ws, heard))
            }));
        }
    }
    drop(ready_tx);
    for _ in 0..PEOPLE * CONNECTIONS_EACH {
        ready.recv().await.context("a client failed to join")?;
    }
    let (status, poll) = app
        .call(
            "POST",
            &format!("/api/v1/sessions/{session}/room/polls"),
            Some(&admin),
            Some(json!({"question": "Encore?", "options": ["yes", "no", "louder"]})),
        )
        .await?;
    ensure!(status == 201, "{status} {poll}");
    poll_tx.send(poll["id"].clone())?;
    let mut clients = Vec::with_capacity(tasks.len());
    for task in tasks {
        clients.push(task.await??);
    }
    // The tally counts each person once, and equals the stored votes.
    let room = room_view(&app, &admin, session).await?;
    let polled = &room["polls"][0];
    let counts: Vec<u64> = serde_json::from_value(polled["counts"].clone())?;
    ensure!(
        polled["voters"] == PEOPLE && counts.iter().sum::<u64>() == PEOPLE as u64,
        "{polled}"
    );
    // Every client hears results with a rising seq, ending at the full tally (a
    // broadcast may already count every person while some of their connections'
    // later votes are still to come).
    let (first, heard) = clients.first_mut().context("no clients")?;
    let mut heard = std::mem::take(heard).into_iter();
    let mut last_seq = 0;
    loop {
        // First what came before its vote's ack, then what follows.
        let r = match heard.find(|m| m["type"] == "POLL_RESULTS") {
            Some(r) => r,
            None => next_of(first, "POLL_RESULTS").await?,
        };
        let seq = r["poll"]["seq"].as_u64().context("seq")?;
        ensure!(seq > last_seq, "seq went from {last_seq} to {seq}");
        last_seq = seq;
        if r["poll"]["counts"] == polled["counts"] {
            ensure!(r["poll"]["voters"] == PEOPLE, "{r}");
            break;
        }
    }
    let by_choice: HashMap<String, u64> = counts
        .iter()
        .enumerate()
        .map(|(i, c)| (i.to_string(), *c))
        .collect();
    ensure!(by_choice.values().all(|c| *c > 0), "{by_choice:?}");
    Ok(())
}

/// A counter's value summed over its labels.

#[actix_rt::test]
async fn a_stalled_client_delays_nobody_and_is_resynchronised_with_a_snapshot() -> Result<()> {
    const HOSTS: usize = 4;
    const MESSAGES_EACH: usize = 600;
    const WATCHERS: usize = 10;
    let (app, admin, session) = stage().await?;

    // A member who joins and then reads nothing more, on a 4 KB receive buffer.
    let sleepy = app.attendee("sleepy").await?;
    let mut stalled = connect_stalled(&app, &sleepy).await?;
    command(
        &mut stalled,
        json!({"type": "join_room", "request_id": "j", "session": session}),
    )
    .await?;
    let resyncs_before = metric(&app.metrics().await?, "limelight_room_resyncs_total");

    // Watchers read every message in their own tasks.
    let (ready_tx, mut ready) = tokio::sync::mpsc::channel::<()>(WATCHERS);
    let mut watchers = Vec::new();
    for w in 0..WATCHERS {
        let token = app.attendee(&format!("watcher{w}")).await?;
        let (mut ws, _) = enter(&app, &token, session).await?;
        let ready_tx = ready_tx.clone();
        watchers.push(tokio::spawn(async move {
            ready_tx.send(()).await?;
            // Each host's messages arrive complete and in order, with no snapshot
            // in between (a snapshot would mean this watcher had fallen behind).
            let mut next = [0usize; HOSTS];
            let mut seen = 0;
            while seen < HOSTS * MESSAGES_EACH {
                let m = next_of_any(&mut ws).await?;
                ensure!(
                    m["type"] != "ROOM_SNAPSHOT",
                    "watcher {w} was resynchronised"
                );
                if m["type"] != "MESSAGE_RECEIVED" {
                    continue;
                }
                let text = m["message"]["text"].as_str().context("text")?;
                let (host, i) = text
                    .split(' ')
                    .next()
                    .and_then(|tag| tag.split_once('-'))
                    .context("tag")?;
                let (host, i): (usize, usize) = (host.parse()?, i.parse()?);
                ensure!(
                    next[host] == i,
                    "watcher {w}: host {host} message {i}, expected {}",
                    next[host]
                );
                next[host] += 1;
                seen += 1;
            }
            Ok::<_, anyhow::Error>(ws)
        }));
    }
    drop(ready_tx);
    for _ in 0..WATCHERS {
        ready.recv().await.context("a watcher failed to join")?;
    }

    // Hosts (staff: no rate limit) each send their messages, 1.6 MB in all.
    let padding = "x".repeat(480);
    let mut hosts = Vec::new();
    for host in 0..HOSTS {
        let (mut ws, _) = enter(&app, &admin, session).await?;
        let padding = padding.clone();
        hosts.push(tokio::spawn(async move {
            for i in 0..MESSAGES_EACH {
                say(
                    &mut ws,
                    json!({"type": "send_message", "request_id": format!("{i}"),
                           "session": session, "text": format!("{host}-{i} {padding}")}),
                )
                .await?;
            }
            let mut acked = 0;
            while acked < MESSAGES_EACH {
                let m = next_of_any(&mut ws).await?;
                ensure!(m["type"] != "error", "{m}");
                acked += usize::from(m["type"] == "ack");
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for host in hosts {
        host.await??;
    }
    let mut others = Vec::new();
    for watcher in watchers {
        others.push(watcher.await??);
    }
    // The stalled member was marked behind instead of holding anyone up.
    let resyncs = metric(&app.metrics().await?, "limelight_room_resyncs_total");
    ensure!(resyncs > resyncs_before, "nobody was marked behind");

    // Once it reads again it catches up through a fresh snapshot: the room as it
    // stands, the same as the REST view (a second one follows if it fell behind
    // again while reading its backlog). It is still a member: its own command is
    // answered.
    let room = room_view(&app, &admin, session).await?;
    ensure!(
        room["messages"].as_array().is_some_and(|m| !m.is_empty()),
        "{room}"
    );
    resume(&stalled)?;
    let mut caught_up = false;
    for _ in 0..2 {
        let snapshot = next_of(&mut stalled, "ROOM_SNAPSHOT").await?;
        caught_up = snapshot["snapshot"]["messages"] == room["messages"];
        if caught_up {
            break;
        }
    }
    ensure!(caught_up, "no snapshot of the room as it stands");
    command(
        &mut stalled,
        json!({"type": "send_message", "request_id": "back", "session": session, "text": "back"}),
    )
    .await?;
    drop(others);
    Ok(())
}

/// Each thread of this process: its name (cut to 15 bytes) and the cores it may
/// run on.
fn threads() -> Result<Vec<(String, String)>> {
    let mut threads = Vec::new();
    for task in std::fs::read_dir("/proc/self/task")? {
        let Ok(status) = std::fs::read_to_string(task?.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
        };
        if let (Some(name), Some(cores)) = (field("Name:"), field("Cpus_allowed_list:")) {
            threads.push((name, cores));
        }
    }
    Ok(threads)
}

#[actix_rt::test]
async fn pinned_workers_keep_a_core_each_and_rooms_reach_connections_on_both() -> Result<()> {
    let env = limelight_tests::TestEnv::new().await?;
    let mut config = env.config();
    config.http_pin_workers = true;
    let app = TestApp::spawn_with(env, config).await?;

    // Connections are dealt to the workers in turn: four people's events reach
    // all four through both workers' relays.
    let admin = app.admin().await?;
    let session = app
        .bookable_session(&admin, json!({"capacity": 10}))
        .await?;
    let mut people = Vec::new();
    for name in ["ann", "bob", "cy", "di"] {
        let token = app.attendee(name).await?;
        people.push(enter(&app, &token, session).await?.0);
    }
    let said = json!({"type": "send_message", "request_id": "m", "session": session, "text": "hi"});
    command(&mut people[0], said).await?;
    for ws in &mut people[1..] {
        let m = next_of(ws, "MESSAGE_RECEIVED").await?;
        ensure!(m["message"]["text"] == "hi", "{m}");
    }

    // The two HTTP workers (actix names its arbiters alike) each allow one core,
    // a different one on a machine with two or more. (Threads a worker starts,
    // its blocking pool, inherit its core.)
    let pinned: Vec<String> = threads()?
        .into_iter()
        .filter(|(name, cores)| name.starts_with("actix-rt|system") && !cores.contains([',', '-']))
        .map(|(_, cores)| cores)
        .collect();
    if std::thread::available_parallelism()?.get() >= 2 {
        ensure!(pinned.len() == 2 && pinned[0] != pinned[1], "{pinned:?}");
    }
    Ok(())
}
