//! Waitlists and emergencies through the real server: freed places go to the line
//! (never to the public while anyone waits), offers reach the attendee over the
//! WebSocket, lapse and move on, and an emergency raises a system alert.

use anyhow::{Context, Result, ensure};
use futures_util::SinkExt;
use limelight_tests::{TestApp, Ws, connect, next_of};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn join(app: &TestApp, token: &str, session: i64, party: u32) -> Result<Value> {
    let path = format!("/api/v1/sessions/{session}/waitlist");
    let (status, entry) = app
        .call("POST", &path, Some(token), Some(json!({"party": party})))
        .await?;
    ensure!(status == 201, "{status} {entry}");
    Ok(entry)
}

async fn mine(app: &TestApp, token: &str, session: i64) -> Result<(u16, Value)> {
    let path = format!("/api/v1/sessions/{session}/waitlist/me");
    app.call("GET", &path, Some(token), None).await
}

async fn book(app: &TestApp, token: &str, session: i64, n: u32) -> Result<String> {
    let path = format!("/api/v1/sessions/{session}/bookings");
    let (status, b) = app
        .call("POST", &path, Some(token), Some(json!({"quantity": n})))
        .await?;
    ensure!(status == 201, "{status} {b}");
    Ok(b["id"].as_str().context("id")?.to_owned())
}

async fn cancel(app: &TestApp, token: &str, session: i64, id: &str) -> Result<()> {
    let path = format!("/api/v1/sessions/{session}/bookings/{id}");
    let (status, b) = app.call("DELETE", &path, Some(token), None).await?;
    ensure!(status == 200 && b["state"] == "cancelled", "{status} {b}");
    Ok(())
}

/// The offer a waiter's socket receives.
async fn offer(ws: &mut Ws) -> Result<Value> {
    let m = next_of(ws, "WAITLIST_OFFER").await?;
    Ok(m["entry"]["offer"].clone())
}

#[actix_rt::test]
async fn a_release_during_an_open_offer_goes_to_the_next_in_line() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let session = app
        .bookable_session(&admin, json!({"capacity": 2, "hold_ttl_s": 600}))
        .await?;
    let (ann, zed, bob, cat, eve) = (
        app.attendee("ann").await?,
        app.attendee("zed").await?,
        app.attendee("bob").await?,
        app.attendee("cat").await?,
        app.attendee("eve").await?,
    );
    let a = book(&app, &ann, session, 1).await?;
    let z = book(&app, &zed, session, 1).await?;
    let holds = format!("/api/v1/sessions/{session}/holds");
    // Sold out: the public is refused, and joining is refused while places are free.
    app.refused(
        "POST",
        &holds,
        &eve,
        Some(json!({"quantity": 1})),
        409,
        "sold_out",
    )
    .await?;
    let mut bob_ws = connect(&app, &bob).await?;
    next_of(&mut bob_ws, "welcome").await?;
    let mut cat_ws = connect(&app, &cat).await?;
    next_of(&mut cat_ws, "welcome").await?;
    let b = join(&app, &bob, session, 1).await?;
    ensure!(b["state"] == "waiting" && b["position"] == 1, "{b}");
    let c = join(&app, &cat, session, 1).await?;
    ensure!(c["position"] == 2, "{c}");
    let path = format!("/api/v1/sessions/{session}/waitlist");
    app.refused(
        "POST",
        &path,
        &bob,
        Some(json!({"party": 1})),
        409,
        "already_waiting",
    )
    .await?;
    app.refused(
        "POST",
        &path,
        &eve,
        Some(json!({"party": 3})),
        422,
        "party_too_large",
    )
    .await?;
    app.refused(
        "POST",
        &path,
        &eve,
        Some(json!({"party": 1, "tier": "vip"})),
        403,
        "forbidden",
    )
    .await?;

    // Ann cancels: her place is offered to Bob, over the WebSocket and REST.
    cancel(&app, &ann, session, &a).await?;
    let bob_offer = offer(&mut bob_ws).await?;
    ensure!(bob_offer["state"] == "offered", "{bob_offer}");
    let (_, me) = mine(&app, &bob, session).await?;
    ensure!(
        me["state"] == "offered" && me["offer"]["id"] == bob_offer["id"],
        "{me}"
    );

    // While Bob's offer is open, Zed cancels: that place goes to Cat, not Eve.
    cancel(&app, &zed, session, &z).await?;
    let cat_offer = offer(&mut cat_ws).await?;
    app.refused(
        "POST",
        &holds,
        &eve,
        Some(json!({"quantity": 1})),
        409,
        "sold_out",
    )
    .await?;
    let (_, avail) = app
        .call(
            "GET",
            &format!("/api/v1/sessions/{session}/availability"),
            Some(&eve),
            None,
        )
        .await?;
    ensure!(avail["offered"] == 2 && avail["available"] == 0, "{avail}");

    // Bob accepts (confirms the offer) and hears BOOKING_CONFIRMED; Cat declines.
    let confirm = format!(
        "{holds}/{}/confirm",
        bob_offer["id"].as_str().context("id")?
    );
    let (status, booked) = app.call("POST", &confirm, Some(&bob), None).await?;
    ensure!(
        status == 200 && booked["state"] == "booked",
        "{status} {booked}"
    );
    let confirmed = next_of(&mut bob_ws, "BOOKING_CONFIRMED").await?;
    ensure!(confirmed["booking"]["id"] == bob_offer["id"], "{confirmed}");
    let (status, left) = app
        .call("DELETE", &format!("{path}/me"), Some(&cat), None)
        .await?;
    ensure!(
        status == 200 && left["state"] == "declined",
        "{status} {left}"
    );
    let (status, _) = mine(&app, &cat, session).await?;
    ensure!(status == 404, "cat left the list");
    ensure!(cat_offer["state"] == "offered", "{cat_offer}");

    // Nobody waits now: the declined place is the public's.
    let (status, hold) = app
        .call("POST", &holds, Some(&eve), Some(json!({"quantity": 1})))
        .await?;
    ensure!(status == 201, "{status} {hold}");
    Ok(())
}

#[actix_rt::test]
async fn a_chain_of_expiring_offers_moves_down_the_line() -> Result<()> {
    let (app, time) = TestApp::spawn_on_manual_time().await?;
    let admin = app.admin().await?;
    let session = app
        .bookable_session(&admin, json!({"capacity": 1, "hold_ttl_s": 1}))
        .await?;
    let owner = app.attendee("owner").await?;
    let held = book(&app, &owner, session, 1).await?;
    let mut waiters = Vec::new();
    for n in 0..4 {
        let token = app.attendee(&format!("w{n}")).await?;
        let mut ws = connect(&app, &token).await?;
        next_of(&mut ws, "welcome").await?;
        let entry = join(&app, &token, session, 1).await?;
        ensure!(entry["position"] == n + 1, "{entry}");
        waiters.push((token, ws));
    }
    cancel(&app, &owner, session, &held).await?;
    // Each offer lapses after a second and the next in line hears of its own
    // at once: the ledger's timer moves the line without anyone asking.
    let mut ids = Vec::new();
    for (token, ws) in &mut waiters {
        let o = offer(ws).await?;
        ids.push(o["id"].clone());
        let (_, me) = mine(&app, token, session).await?;
        ensure!(me["state"] == "offered", "{me}");
        time.advance(Duration::from_secs(1));
    }
    ensure!(
        ids.iter().collect::<std::collections::HashSet<_>>().len() == 4,
        "{ids:?}"
    );
    // The last has lapsed too; nobody waits, so the place is the public's again.
    let (_, avail) = app
        .call(
            "GET",
            &format!("/api/v1/sessions/{session}/availability"),
            Some(&owner),
            None,
        )
        .await?;
    ensure!(avail["available"] == 1 && avail["offered"] == 0, "{avail}");
    let (_, list) = app
        .call(
            "GET",
            &format!("/api/v1/sessions/{session}/waitlist"),
            Some(&admin),
            None,
        )
        .await?;
    ensure!(list["total"] == 0, "{list}");
    Ok(())
}

#[actix_rt::test]
async fn an_emergency_alerts_operators_and_switches_the_venues_canvases() -> Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.admin().await?;
    let canvas = app.idle_canvas(&admin, "Facade").await?;
    let operator = app.user("op", "operator").await?;
    let guest = app.attendee("guest").await?;
    let mut console = connect(&app, &operator).await?;
    next_of(&mut console, "snapshot").await?;
    let mut attendee = connect(&app, &guest).await?;
    next_of(&mut attendee, "welcome").await?;
    let venue = app
        .created(
            "/api/v1/venues",
            &admin,
            json!({"name": "Arena", "timezone": "Europe/Paris", "emergency_canvases": true}),
        )
        .await?;
    // A critical incident alerts operators.
    let show = app
        .created(
            "/api/v1/events",
            &admin,
            json!({"venue": venue, "name": "Show", "type": "show", "status": "active",
                   "starts_at": "2030-06-01T18:00:00Z", "ends_at": "2030-06-01T23:00:00Z"}),
        )
        .await?;
    let incident = app
        .created(
            "/api/v1/incidents",
            &admin,
            json!({"title": "Smoke in hall B", "event": show, "priority": "critical"}),
        )
        .await?;
    let alert = next_of(&mut console, "system_alert").await?;
    ensure!(
        alert["alert"]["kind"] == "critical_incident" && alert["alert"]["id"] == incident,
        "{alert}"
    );
    ensure!(alert["alert"]["canvases"] == json!([canvas]), "{alert}");
    let state = app.canvas_state(&admin, canvas).await?;
    ensure!(state["emergency"] == true, "{state}");
    // An emergency event does too.
    let evac = app
        .created(
            "/api/v1/events",
            &admin,
            json!({"venue": venue, "name": "Evacuation", "type": "emergency", "status": "active",
                   "priority": "critical",
                   "starts_at": "2030-06-01T20:00:00Z", "ends_at": "2030-06-01T21:00:00Z"}),
        )
        .await?;
    let alert = next_of(&mut console, "system_alert").await?;
    ensure!(
        alert["alert"]["kind"] == "emergency_event" && alert["alert"]["id"] == evac,
        "{alert}"
    );
    // Attendees hear no alerts and no canvas events.
    attendee
        .send(Message::Text(
            json!({"type": "get_snapshot", "request_id": "s"})
                .to_string()
                .into(),
        ))
        .await?;
    let refused = next_of(&mut attendee, "error").await?;
    ensure!(refused["code"] == "forbidden", "{refused}");
    Ok(())
}
