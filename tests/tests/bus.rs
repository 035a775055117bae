//! The nodes' fan-out through a real Redis: order, read-back of what a node
//! missed, a gap announced when it cannot be read back, and the subscription
//! coming back after its connection is killed.

use anyhow::{Context, Result, bail, ensure};
use limelight_engine::bus::{Bus, Heard};
use limelight_tests::RedisServer;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

const WAIT: Duration = Duration::from_secs(5);

async fn next(rx: &mut UnboundedReceiver<Heard>) -> Result<Heard> {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .context("nothing heard in time")?
        .context("the bus closed")
}

async fn events(rx: &mut UnboundedReceiver<Heard>, n: usize) -> Result<Vec<String>> {
    let mut out = Vec::new();
    while out.len() < n {
        match next(rx).await? {
            Heard::Event(e) => out.push(e),
            Heard::Gap => bail!("a gap after {out:?}"),
        }
    }
    Ok(out)
}

/// A bus whose subscription is up (its round trip succeeds).
async fn bus(url: &str, node: &str) -> Result<Bus> {
    let bus = Bus::start(url, node).map_err(anyhow::Error::msg)?;
    up(&bus).await?;
    Ok(bus)
}

async fn up(bus: &Bus) -> Result<()> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let trip = bus.round_trip().await;
        if trip.ok {
            return Ok(());
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the bus never came up: {trip:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn publish(bus: &Bus, channel: &str, events: &[&str]) -> Result<()> {
    for e in events {
        bus.publish(channel, e).await.map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// Append to a channel's stream without publishing: what a subscriber that
/// lost its messages finds there.
async fn append_unheard(
    conn: &mut redis::aio::MultiplexedConnection,
    channel: &str,
    body: &str,
) -> Result<()> {
    let key = format!("limelight:stream:{channel}");
    let newest: Vec<(String, Vec<(String, String)>)> = redis::cmd("XREVRANGE")
        .arg(&key)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(conn)
        .await?;
    let prev = newest
        .first()
        .map_or("0-0".to_owned(), |(id, _)| id.clone());
    let _: String = redis::cmd("XADD")
        .arg(&key)
        .arg("*")
        .arg("prev")
        .arg(prev)
        .arg("body")
        .arg(body)
        .query_async(conn)
        .await?;
    Ok(())
}

#[actix_rt::test]
async fn every_node_hears_a_channel_in_one_order_and_what_it_missed_is_read_back_or_announced()
-> Result<()> {
    let redis = RedisServer::start()?;
    let url = redis.url();
    let (a, b) = (bus(&url, "a").await?, bus(&url, "b").await?);
    let (mut on_a, mut on_b) = (
        a.listen("room:1").await.map_err(anyhow::Error::msg)?,
        b.listen("room:1").await.map_err(anyhow::Error::msg)?,
    );
    let mut other = a.listen("room:2").await.map_err(anyhow::Error::msg)?;

    // Published from both nodes: both hear all of it, in the same order.
    publish(&a, "room:1", &["1", "2"]).await?;
    publish(&b, "room:1", &["3"]).await?;
    publish(&a, "room:1", &["4"]).await?;
    let heard_a = events(&mut on_a, 4).await?;
    let heard_b = events(&mut on_b, 4).await?;
    ensure!(heard_a == ["1", "2", "3", "4"], "{heard_a:?}");
    ensure!(heard_b == heard_a, "{heard_b:?}");
    publish(&b, "room:2", &["other"]).await?;
    ensure!(events(&mut other, 1).await? == ["other"]);

    // Messages lost on the way (in the stream, never published) are read back
    // in order when the next one shows the gap.
    let client = redis::Client::open(url.as_str())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    append_unheard(&mut conn, "room:1", "5").await?;
    append_unheard(&mut conn, "room:1", "6").await?;
    publish(&b, "room:1", &["7"]).await?;
    ensure!(events(&mut on_a, 3).await? == ["5", "6", "7"]);
    ensure!(events(&mut on_b, 3).await? == ["5", "6", "7"]);

    // Lost and trimmed away: nothing to read back, so a gap is announced (the
    // listener takes a snapshot), then the channel goes on.
    append_unheard(&mut conn, "room:1", "8").await?;
    append_unheard(&mut conn, "room:1", "9").await?;
    let _: i64 = redis::cmd("XTRIM")
        .arg("limelight:stream:room:1")
        .arg("MAXLEN")
        .arg(1)
        .query_async(&mut conn)
        .await?;
    publish(&a, "room:1", &["10"]).await?;
    ensure!(next(&mut on_a).await? == Heard::Gap);
    ensure!(next(&mut on_b).await? == Heard::Gap);
    publish(&a, "room:1", &["11"]).await?;
    ensure!(events(&mut on_a, 1).await? == ["11"]);
    ensure!(events(&mut on_b, 1).await? == ["11"]);

    // The subscriptions killed by Redis: each node subscribes again, and what
    // was published meanwhile reaches it in order, live or read back.
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut conn)
        .await?;
    ensure!(killed >= 2, "killed {killed} subscriptions");
    publish(&b, "room:1", &["12", "13", "14"]).await?;
    up(&a).await?;
    up(&b).await?;
    publish(&b, "room:1", &["15"]).await?;
    ensure!(events(&mut on_a, 4).await? == ["12", "13", "14", "15"]);
    ensure!(events(&mut on_b, 4).await? == ["12", "13", "14", "15"]);
    Ok(())
}

#[actix_rt::test]
async fn the_round_trip_fails_while_redis_is_down_and_recovers_when_it_is_back() -> Result<()> {
    let mut redis = RedisServer::start()?;
    let a = bus(&redis.url(), "a").await?;
    redis.stop()?;
    let trip = a.round_trip().await;
    ensure!(!trip.ok && trip.error.is_some(), "{trip:?}");
    ensure!(
        a.publish("room:1", "lost").await.is_err(),
        "a publish to a stopped Redis succeeded"
    );
    redis.restart()?;
    up(&a).await?;
    let mut rx = a.listen("room:1").await.map_err(anyhow::Error::msg)?;
    publish(&a, "room:1", &["back"]).await?;
    ensure!(events(&mut rx, 1).await? == ["back"]);
    Ok(())
}
