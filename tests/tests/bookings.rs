//! Events and bookings through the real server: the domain over REST, the booking
//! ledger under concurrent load, seats, expiry, idempotency and a restart.

use anyhow::{Context, Result, ensure};
use futures_util::StreamExt;
use limelight_tests::TestApp;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

#[actix_rt::test]
async fn events_sessions_and_incidents_are_managed_over_rest() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let marketing = app.user("mia", "marketing").await?;
    let guest = app.attendee("guest").await?;

    // Venues.
    let venue = app
        .created(
            "/api/v1/venues",
            &marketing,
            json!({"name": "Opera", "timezone": "Europe/Paris", "address": "Place de l'Opéra"}),
        )
        .await?;
    app.refused(
        "POST",
        "/api/v1/venues",
        &admin,
        Some(json!({"name": "Opera", "timezone": "Europe/Paris"})),
        409,
        "conflict",
    )
    .await?;
    app.refused(
        "POST",
        "/api/v1/venues",
        &admin,
        Some(json!({"name": "X", "timezone": "Mars/Olympus"})),
        422,
        "validation_failed",
    )
    .await?;
    app.refused(
        "POST",
        "/api/v1/venues",
        &guest,
        Some(json!({"name": "Y", "timezone": "UTC"})),
        403,
        "forbidden",
    )
    .await?;

    // Seven events, two of them drafts.
    let names = [
        "Rust Conf",
        "rustacean night",
        "Board meeting",
        "Winter Show",
        "Gala",
        "Fire drill",
        "Trust summit",
    ];
    let kinds = [
        "conference",
        "show",
        "meeting",
        "show",
        "show",
        "emergency",
        "conference",
    ];
    let mut ids = Vec::new();
    for (i, (name, kind)) in names.iter().zip(kinds).enumerate() {
        let status = if i % 3 == 2 { "draft" } else { "active" };
        let id = app
            .created(
                "/api/v1/events",
                &admin,
                json!({
                    "venue": venue, "name": name, "type": kind, "status": status,
                    "priority": if i == 5 { "critical" } else { "normal" },
                    "location": "Hall A", "metadata": {"sponsor": i},
                    "starts_at": format!("2030-01-{:02}T18:00:00Z", 10 - i),
                    "ends_at": format!("2030-01-{:02}T22:00:00Z", 10 - i)
                }),
            )
            .await?;
        ids.push(id);
    }
    app.refused("POST", "/api/v1/events", &admin, Some(json!({"venue": venue, "name": "Bad", "type": "show", "starts_at": "2030-01-02T10:00:00Z", "ends_at": "2030-01-01T10:00:00Z"})), 422, "validation_failed").await?;
    app.refused("POST", "/api/v1/events", &admin, Some(json!({"venue": 999, "name": "Lost", "type": "show", "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-02T10:00:00Z"})), 404, "unknown_venue").await?;
    app.refused("POST", "/api/v1/events", &admin, Some(json!({"venue": venue, "name": "Odd", "type": "party", "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-02T10:00:00Z"})), 422, "validation_failed").await?;
    let (status, _) = app
        .call_raw(
            "POST",
            "/api/v1/events",
            Some(&admin),
            "application/json",
            b"{nope".to_vec(),
        )
        .await?;
    ensure!(status == 400);

    // Paging, sorting, search and filters.
    let list = |q: &str| {
        let path = format!("/api/v1/events?{q}");
        let token = admin.clone();
        let app = &app;
        async move { app.call("GET", &path, Some(&token), None).await }
    };
    let (status, page) = list("limit=3&page=3").await?;
    ensure!(
        status == 200 && page["total"] == 7 && page["items"].as_array().map(Vec::len) == Some(1),
        "{page}"
    );
    let (_, page) = list("sort=starts_at&limit=2").await?;
    ensure!(page["items"][0]["name"] == "Trust summit", "{page}");
    let (_, page) = list("sort=-starts_at&limit=2").await?;
    ensure!(page["items"][0]["name"] == "Rust Conf", "{page}");
    let (_, page) = list("q=RUST").await?;
    let found: HashSet<&str> = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect();
    ensure!(
        found == HashSet::from(["Rust Conf", "rustacean night", "Trust summit"]),
        "{page}"
    );
    let (_, page) = list("type=show&status=active").await?;
    ensure!(page["total"] == 3, "{page}");
    let (_, page) = list("sort=-priority&limit=1").await?;
    ensure!(page["items"][0]["name"] == "Fire drill", "{page}");
    let (_, page) = list("q=50%25").await?;
    ensure!(page["total"] == 0, "a literal % matches nothing: {page}");
    app.refused(
        "GET",
        "/api/v1/events?sort=colour",
        &admin,
        None,
        422,
        "validation_failed",
    )
    .await?;
    app.refused(
        "GET",
        "/api/v1/events?limit=0",
        &admin,
        None,
        422,
        "validation_failed",
    )
    .await?;
    let (status, _) = app
        .call("GET", "/api/v1/events?colour=red", Some(&admin), None)
        .await?;
    ensure!(status == 400 || status == 422, "unknown filter: {status}");

    // Attendees see published events only.
    let (_, page) = app
        .call("GET", "/api/v1/events", Some(&guest), None)
        .await?;
    ensure!(page["total"] == 5, "{page}");
    app.refused(
        "GET",
        &format!("/api/v1/events/{}", ids[2]),
        &guest,
        None,
        404,
        "unknown_event",
    )
    .await?;

    // Sessions: general admission and a seat map with blocked seats.
    let event = ids[0];
    let ga = app
        .created(
            &format!("/api/v1/events/{event}/sessions"),
            &admin,
            json!({
                "title": "Keynote", "room": "Hall A", "capacity": 300,
                "starts_at": "2030-01-10T18:00:00Z", "ends_at": "2030-01-10T19:00:00Z"
            }),
        )
        .await?;
    let (status, seated) = app
        .call("POST", &format!("/api/v1/events/{event}/sessions"), Some(&admin), Some(json!({
            "title": "Workshop", "room": "Room 2",
            "seat_map": {"rows": [{"row": "A", "seats": 10, "blocked": [5]}, {"row": "B", "seats": 12}]},
            "per_user_limit": 2, "waitlist_order": "skip_ahead",
            "starts_at": "2030-01-10T19:00:00Z", "ends_at": "2030-01-10T20:00:00Z"
        })))
        .await?;
    ensure!(status == 201 && seated["capacity"] == 21, "{seated}");
    let bad_sessions = [
        json!({"title": "No room", "starts_at": "2030-01-10T19:00:00Z", "ends_at": "2030-01-10T20:00:00Z"}),
        json!({"title": "Twice", "seat_map": {"rows": [{"row": "A", "seats": 2}, {"row": "A", "seats": 2}]}, "starts_at": "2030-01-10T19:00:00Z", "ends_at": "2030-01-10T20:00:00Z"}),
        json!({"title": "Blocked", "seat_map": {"rows": [{"row": "A", "seats": 2, "blocked": [3]}]}, "starts_at": "2030-01-10T19:00:00Z", "ends_at": "2030-01-10T20:00:00Z"}),
        json!({"title": "Mismatch", "capacity": 5, "seat_map": {"rows": [{"row": "A", "seats": 2}]}, "starts_at": "2030-01-10T19:00:00Z", "ends_at": "2030-01-10T20:00:00Z"}),
        json!({"title": "TTL", "capacity": 5, "hold_ttl_s": 0, "starts_at": "2030-01-10T19:00:00Z", "ends_at": "2030-01-10T20:00:00Z"}),
    ];
    for body in bad_sessions {
        app.refused(
            "POST",
            &format!("/api/v1/events/{event}/sessions"),
            &admin,
            Some(body),
            422,
            "validation_failed",
        )
        .await?;
    }
    let (_, page) = app
        .call(
            "GET",
            &format!("/api/v1/events/{event}/sessions?sort=-title"),
            Some(&guest),
            None,
        )
        .await?;
    ensure!(
        page["total"] == 2 && page["items"][0]["title"] == "Workshop",
        "{page}"
    );
    let (_, a) = app
        .call(
            "GET",
            &format!("/api/v1/sessions/{}/availability", seated["id"]),
            Some(&guest),
            None,
        )
        .await?;
    ensure!(
        a["available"] == 21 && a["free_seats"].as_array().map(Vec::len) == Some(21),
        "{a}"
    );
    ensure!(
        !a["free_seats"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s == "A-5"),
        "A-5 is blocked"
    );

    // A session with bookings cannot shrink below them, nor be deleted.
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/sessions/{ga}/bookings"),
            Some(&guest),
            Some(json!({"quantity": 3})),
        )
        .await?;
    ensure!(status == 201);
    let shrink = json!({"title": "Keynote", "capacity": 2, "starts_at": "2030-01-10T18:00:00Z", "ends_at": "2030-01-10T19:00:00Z"});
    app.refused(
        "PUT",
        &format!("/api/v1/sessions/{ga}"),
        &admin,
        Some(shrink),
        409,
        "conflict",
    )
    .await?;
    let grow = json!({"title": "Keynote (moved)", "capacity": 350, "starts_at": "2030-01-10T18:00:00Z", "ends_at": "2030-01-10T19:00:00Z"});
    let (status, body) = app
        .call(
            "PUT",
            &format!("/api/v1/sessions/{ga}"),
            Some(&admin),
            Some(grow),
        )
        .await?;
    ensure!(status == 200 && body["capacity"] == 350, "{body}");
    let a = app.availability(&guest, ga).await?;
    ensure!(
        a["capacity"] == 350 && a["booked"] == 3 && a["available"] == 347,
        "{a}"
    );
    app.refused(
        "DELETE",
        &format!("/api/v1/sessions/{ga}"),
        &admin,
        None,
        409,
        "conflict",
    )
    .await?;
    app.refused(
        "DELETE",
        &format!("/api/v1/events/{event}"),
        &admin,
        None,
        409,
        "conflict",
    )
    .await?;
    app.refused(
        "DELETE",
        &format!("/api/v1/venues/{venue}"),
        &admin,
        None,
        409,
        "conflict",
    )
    .await?;

    // Cancelling the event closes its sessions.
    let mut cancelled: Value = app
        .call(
            "GET",
            &format!("/api/v1/events/{event}"),
            Some(&admin),
            None,
        )
        .await?
        .1;
    for k in ["id", "created_at", "updated_at"] {
        cancelled.as_object_mut().map(|o| o.remove(k));
    }
    cancelled["status"] = json!("cancelled");
    let (status, body) = app
        .call(
            "PUT",
            &format!("/api/v1/events/{event}"),
            Some(&admin),
            Some(cancelled),
        )
        .await?;
    ensure!(status == 200 && body["status"] == "cancelled", "{body}");
    app.refused(
        "POST",
        &format!("/api/v1/sessions/{ga}/holds"),
        &guest,
        Some(json!({"quantity": 1})),
        409,
        "booking_closed",
    )
    .await?;

    // Incidents.
    let incident = app
        .created(
            "/api/v1/incidents",
            &admin,
            json!({"title": "Smoke in hall B", "event": ids[1], "priority": "high"}),
        )
        .await?;
    app.created(
        "/api/v1/incidents",
        &marketing,
        json!({"title": "Lost badge", "priority": "low", "status": "resolved"}),
    )
    .await?;
    app.refused(
        "POST",
        "/api/v1/incidents",
        &admin,
        Some(json!({"title": "Ghost", "event": 999})),
        404,
        "unknown_event",
    )
    .await?;
    app.refused("GET", "/api/v1/incidents", &guest, None, 403, "forbidden")
        .await?;
    let (_, page) = app
        .call("GET", "/api/v1/incidents?status=open", Some(&admin), None)
        .await?;
    ensure!(
        page["total"] == 1 && page["items"][0]["id"] == incident,
        "{page}"
    );
    let (_, page) = app
        .call(
            "GET",
            "/api/v1/incidents?sort=-priority",
            Some(&admin),
            None,
        )
        .await?;
    ensure!(page["items"][0]["title"] == "Smoke in hall B", "{page}");
    let (status, body) = app
        .call("PUT", &format!("/api/v1/incidents/{incident}"), Some(&admin), Some(json!({"title": "Smoke in hall B", "event": ids[1], "status": "resolved", "priority": "high"})))
        .await?;
    ensure!(status == 200 && body["status"] == "resolved", "{body}");
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/incidents/{incident}"),
            Some(&admin),
            None,
        )
        .await?;
    ensure!(status == 204);
    app.refused(
        "GET",
        &format!("/api/v1/incidents/{incident}"),
        &admin,
        None,
        404,
        "unknown_incident",
    )
    .await?;
    Ok(())
}

/// `n` hold requests of one place each, `in_flight` at a time; the answers.
async fn hold_load(
    app: &TestApp,
    tokens: &[String],
    session: i64,
    n: usize,
    in_flight: usize,
) -> Result<Vec<(u16, Value)>> {
    let path = format!("/api/v1/sessions/{session}/holds");
    let answers: Vec<Result<(u16, Value)>> = futures_util::stream::iter(0..n)
        .map(|i| {
            let token = &tokens[i % tokens.len()];
            let path = &path;
            async move {
                app.call("POST", path, Some(token), Some(json!({"quantity": 1})))
                    .await
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    answers.into_iter().collect()
}

#[actix_rt::test]
async fn ten_thousand_concurrent_holds_for_a_thousand_places_give_exactly_a_thousand() -> Result<()>
{
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let session = app
        .bookable_session(&admin, json!({"capacity": 1000}))
        .await?;
    let mut tokens = Vec::new();
    for i in 0..20 {
        tokens.push(app.attendee(&format!("fan{i}")).await?);
    }
    let answers = hold_load(&app, &tokens, session, 10_000, 500).await?;
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    let mut ids = HashSet::new();
    for (status, body) in &answers {
        *by_status.entry(*status).or_default() += 1;
        match status {
            201 => ensure!(ids.insert(body["id"].to_string()), "hold id twice: {body}"),
            409 => ensure!(body["code"] == "sold_out", "{body}"),
            _ => anyhow::bail!("unexpected answer {status} {body}"),
        }
    }
    ensure!(by_status.get(&201) == Some(&1000), "{by_status:?}");
    ensure!(by_status.get(&409) == Some(&9000), "{by_status:?}");
    let a = app.availability(&admin, session).await?;
    ensure!(
        a["held"] == 1000 && a["available"] == 0 && a["booked"] == 0,
        "{a}"
    );
    // The stored rows say the same.
    let stored = app.stored_bookings(&admin, session).await?;
    ensure!(stored == 1000, "{stored} stored");
    let metrics = app.metrics().await?;
    ensure!(
        metrics.contains("limelight_ledger_batch_size"),
        "batch metrics"
    );
    Ok(())
}

#[actix_rt::test]
async fn seat_requests_never_double_hold_a_seat() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let rows: Vec<Value> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|r| json!({"row": r, "seats": 20}))
        .collect();
    let session = app
        .bookable_session(&admin, json!({"seat_map": {"rows": rows}}))
        .await?;
    let mut tokens = Vec::new();
    for i in 0..10 {
        tokens.push(app.attendee(&format!("seat{i}")).await?);
    }
    // 2,000 requests for two neighbouring seats each, many overlapping.
    let path = format!("/api/v1/sessions/{session}/holds");
    let app = &app;
    let answers: Vec<Result<(u16, Value)>> = futures_util::stream::iter(0..2000usize)
        .map(|i| {
            let row = ["A", "B", "C", "D", "E"][i % 5];
            let n = (i * 7) % 19 + 1;
            let seats = vec![format!("{row}-{n}"), format!("{row}-{}", n + 1)];
            let token = &tokens[i % tokens.len()];
            let path = &path;
            async move {
                app.call("POST", path, Some(token), Some(json!({"seats": seats})))
                    .await
            }
        })
        .buffer_unordered(300)
        .collect()
        .await;
    let mut held: HashMap<String, String> = HashMap::new();
    let mut granted = 0;
    for answer in answers {
        let (status, body) = answer?;
        match status {
            201 => {
                granted += 1;
                let seats = body["seats"].as_array().context("seats")?;
                ensure!(seats.len() == 2, "all or nothing: {body}");
                for s in seats {
                    let s = s.as_str().context("seat")?.to_owned();
                    ensure!(
                        held.insert(s.clone(), body["id"].to_string()).is_none(),
                        "{s} held twice"
                    );
                }
            }
            409 => ensure!(body["code"] == "seats_taken", "{body}"),
            _ => anyhow::bail!("unexpected {status} {body}"),
        }
    }
    ensure!(granted > 0);
    let a = app.availability(&admin, session).await?;
    let free: HashSet<String> = a["free_seats"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    ensure!(
        free.len() + held.len() == 100,
        "{} free + {} held",
        free.len(),
        held.len()
    );
    ensure!(held.keys().all(|s| !free.contains(s)));
    ensure!(a["held"] == held.len(), "{a}");
    Ok(())
}

#[actix_rt::test]
async fn holds_expire_confirm_cancel_and_keys_answer_once() -> Result<()> {
    let (app, time) = TestApp::spawn_on_manual_time().await?;
    let admin = app.admin().await?;
    let session = app
        .bookable_session(
            &admin,
            json!({"capacity": 5, "hold_ttl_s": 1, "per_user_limit": 4}),
        )
        .await?;
    let ann = app.attendee("ann").await?;
    let bob = app.attendee("bob").await?;
    let holds = format!("/api/v1/sessions/{session}/holds");

    // A hold lapses after its second: held a moment before, free the moment
    // after, whether or not its timer has fired yet.
    let (status, hold) = app
        .call("POST", &holds, Some(&ann), Some(json!({"quantity": 2})))
        .await?;
    ensure!(
        status == 201 && hold["state"] == "held" && hold["expires_at"].is_string(),
        "{hold}"
    );
    time.advance(Duration::from_millis(999));
    let a = app.availability(&ann, session).await?;
    ensure!(a["available"] == 3 && a["held"] == 2, "{a}");
    time.advance(Duration::from_millis(1));
    let a = app.availability(&ann, session).await?;
    ensure!(a["available"] == 5 && a["held"] == 0, "{a}");
    let confirm = format!("{holds}/{}/confirm", hold["id"].as_str().context("id")?);
    app.refused("POST", &confirm, &ann, None, 409, "hold_expired")
        .await?;

    // Over the per-user limit.
    app.refused(
        "POST",
        &holds,
        &ann,
        Some(json!({"quantity": 5})),
        409,
        "limit_reached",
    )
    .await?;
    app.refused(
        "POST",
        &holds,
        &ann,
        Some(json!({"quantity": 0})),
        422,
        "validation_failed",
    )
    .await?;
    app.refused(
        "POST",
        &holds,
        &ann,
        Some(json!({"seats": ["A-1"]})),
        422,
        "unknown_seats",
    )
    .await?;

    // Idempotency: the same key and body answer once; another body is refused.
    let (s1, first) = app
        .call_keyed(
            "POST",
            &holds,
            &ann,
            Some(json!({"quantity": 2})),
            "order-1",
        )
        .await?;
    let (s2, again) = app
        .call_keyed(
            "POST",
            &holds,
            &ann,
            Some(json!({"quantity": 2})),
            "order-1",
        )
        .await?;
    ensure!(
        s1 == 201 && s2 == 201 && first == again,
        "{first} / {again}"
    );
    let (s3, other) = app
        .call_keyed(
            "POST",
            &holds,
            &ann,
            Some(json!({"quantity": 1})),
            "order-1",
        )
        .await?;
    ensure!(
        s3 == 409 && other["code"] == "idempotency_conflict",
        "{other}"
    );
    ensure!(app.availability(&ann, session).await?["held"] == 2);

    // Confirm, then bob cannot touch ann's booking; staff can cancel it.
    let id = first["id"].as_str().context("id")?;
    let (status, booked) = app
        .call("POST", &format!("{holds}/{id}/confirm"), Some(&ann), None)
        .await?;
    ensure!(
        status == 200 && booked["state"] == "booked" && booked["expires_at"].is_null(),
        "{booked}"
    );
    let booking = format!("/api/v1/sessions/{session}/bookings/{id}");
    app.refused("DELETE", &booking, &bob, None, 404, "unknown_booking")
        .await?;
    let (status, gone) = app.call("DELETE", &booking, Some(&admin), None).await?;
    ensure!(status == 200 && gone["state"] == "cancelled", "{gone}");
    app.refused("DELETE", &booking, &ann, None, 409, "booking_gone")
        .await?;
    let a = app.availability(&ann, session).await?;
    ensure!(a["available"] == 5 && a["booked"] == 0, "{a}");

    // The attendee's own list shows the story.
    let (_, mine) = app
        .call("GET", "/api/v1/me/bookings", Some(&ann), None)
        .await?;
    let states: HashSet<&str> = mine
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["state"].as_str())
        .collect();
    ensure!(states == HashSet::from(["expired", "cancelled"]), "{mine}");
    app.refused(
        "GET",
        &format!("/api/v1/sessions/{session}/bookings"),
        &ann,
        None,
        403,
        "forbidden",
    )
    .await?;
    app.refused(
        "POST",
        "/api/v1/sessions/999/holds",
        &ann,
        Some(json!({"quantity": 1})),
        404,
        "unknown_session",
    )
    .await?;
    Ok(())
}

#[actix_rt::test]
async fn the_ledger_is_rebuilt_from_the_database_after_a_restart() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let session = app
        .bookable_session(&admin, json!({"capacity": 10}))
        .await?;
    let ann = app.attendee("ann").await?;
    let holds = format!("/api/v1/sessions/{session}/holds");
    let (_, held) = app
        .call_keyed("POST", &holds, &ann, Some(json!({"quantity": 3})), "k1")
        .await?;
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/sessions/{session}/bookings"),
            Some(&ann),
            Some(json!({"quantity": 4})),
        )
        .await?;
    ensure!(status == 201);
    let before = app.availability(&ann, session).await?;

    let env = app.stop().await;
    let app = TestApp::spawn_in(env).await?;
    let ann = app.login("ann", "ann-password").await?;
    let after = app.availability(&ann, session).await?;
    ensure!(before == after, "{before} vs {after}");
    // The key still answers with the first hold; the hold still confirms.
    let (_, again) = app
        .call_keyed("POST", &holds, &ann, Some(json!({"quantity": 3})), "k1")
        .await?;
    ensure!(again == held, "{again} vs {held}");
    let id = held["id"].as_str().context("id")?;
    let (status, booked) = app
        .call("POST", &format!("{holds}/{id}/confirm"), Some(&ann), None)
        .await?;
    ensure!(status == 200 && booked["state"] == "booked", "{booked}");
    app.refused(
        "POST",
        &holds,
        &ann,
        Some(json!({"quantity": 4})),
        409,
        "sold_out",
    )
    .await?;
    Ok(())
}
